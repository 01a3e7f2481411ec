//! Renews a domain at the registry once its renewal was paid (issue 12): enqueued by the
//! payment's transaction when `models::renewals::apply` extended the product, it asks the
//! registry to renew from the expiry we knew (EPP's `curExpDate`), so a repeated job never
//! extends twice: the registry answers `ExpiryMismatch`, and the job then accepts the registry's
//! expiry if it reaches the target already. Our record follows the registry's expiry.

use chrono::NaiveDateTime;
use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};

use super::{ClaimedJob, JobContext, JobHandler};
use crate::db::DbConnection;
use crate::models::domains;
use crate::models::jobs::{self as job_rows, Job, NewJob};
use crate::models::renewals::Renewal;
use crate::registry::RegistryError;

pub const KIND: &str = "renew_domain";

pub const ATTEMPTS: i32 = 30;

#[derive(Debug, Serialize, Deserialize)]
pub struct Payload {
    pub domain_id: String,
    /// The registration's expiry before this renewal (the registry's `curExpDate`).
    pub previous_expiry: NaiveDateTime,
    pub years: u32,
}

/// Queues the renewal at the registry of a domain whose product `renewal` just extended, in
/// the payment's transaction. Products other than domains: nothing.
pub fn enqueue_for(conn: &mut DbConnection, renewal: &Renewal) -> diesel::QueryResult<()> {
    let Some(d) = domains::of_product(conn, &renewal.product_id)? else {
        return Ok(());
    };
    let previous = d.expires_at.unwrap_or(renewal.period_start);
    let years = (renewal.period_months / 12).max(1) as u32;
    let mut job = NewJob::new(
        KIND,
        serde_json::json!(Payload {
            domain_id: d.id.clone(),
            previous_expiry: previous,
            years,
        }),
        ATTEMPTS,
    );
    job.unique_key = Some(format!(
        "{KIND}:{}:{}",
        d.id,
        previous.and_utc().timestamp()
    ));
    job_rows::enqueue(conn, job)?;
    Ok(())
}

/// The target expiry: `years` after `previous`.
fn target(previous: NaiveDateTime, years: u32) -> NaiveDateTime {
    previous
        .checked_add_months(chrono::Months::new(years * 12))
        .unwrap_or(previous)
}

pub struct RenewDomain;

impl JobHandler for RenewDomain {
    fn run<'a>(
        &'a self,
        ctx: &'a JobContext,
        job: &'a ClaimedJob,
    ) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            let Payload {
                domain_id,
                previous_expiry,
                years,
            } = job.payload()?;
            let pool = ctx.pool.clone();
            let id = domain_id.clone();
            let d = tokio::task::spawn_blocking(move || {
                let mut conn = pool.get().map_err(|e| e.to_string())?;
                domains::find_any(&mut conn, &id).map_err(|e| e.to_string())
            })
            .await
            .map_err(|e| e.to_string())??;
            let Some(d) = d else { return Ok(()) };
            let registry = ctx.registry.clone();
            let name = d.name.clone();
            let answer = tokio::task::spawn_blocking(move || {
                match registry.renew(&name, previous_expiry.date(), years) {
                    // Renewed already (a repeated job, or by hand): the registry's expiry is
                    // accepted when it reaches the target.
                    Err(RegistryError::ExpiryMismatch) => {
                        let info = registry.info(&name)?;
                        if info.expires_at.date() >= target(previous_expiry, years).date() {
                            Ok(info.expires_at)
                        } else {
                            Err(RegistryError::ExpiryMismatch)
                        }
                    }
                    other => other,
                }
            })
            .await
            .map_err(|e| e.to_string())?;
            match answer {
                Ok(expires_at) => {
                    ctx.complete(job, move |c| {
                        crate::services::domain_provisioning::renewed(
                            c,
                            &domain_id,
                            previous_expiry,
                            years,
                            expires_at,
                        )
                    })
                    .await
                }
                Err(e) => Err(format!("renewing {} at the registry: {e}", d.name)),
            }
        })
    }

    fn on_dead(&self, _conn: &mut DbConnection, job: &Job) -> diesel::QueryResult<()> {
        tracing::error!(
            job_id = %job.id,
            payload = %job.payload,
            "ALERT: a paid domain renewal could not be made at the registry after every attempt: \
             renew it at the registry by hand before it expires"
        );
        Ok(())
    }
}
