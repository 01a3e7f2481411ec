//! Registers a paid domain at the registry (issue 12): enqueued by the payment's transaction
//! (`services::order_paid`), it calls the registry's create outside any transaction, then
//! writes the answer (`services::domain_provisioning`) in the transaction that completes it.
//! A name taken meanwhile fails the product and refunds it to the prepaid account; a registry
//! that does not answer is retried with backoff (the runner's); a re-run after a crash between
//! the registry's answer and the commit gets the domain's info from the registry's create
//! (the name is ours already) and completes.

use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};

use super::{ClaimedJob, JobContext, JobHandler};
use crate::db::DbConnection;
use crate::domain::billing_states::{ProductKind, ProductStatus};
use crate::domain::domains::{Contacts, DomainStatus};
use crate::models::jobs::{self as job_rows, Job, NewJob};
use crate::models::{domains, products};
use crate::registry::RegistryError;

pub const KIND: &str = "provision_domain";

/// Attempts before the job is given up (backoff doubles up to an hour: about a day).
pub const ATTEMPTS: i32 = 30;

#[derive(Debug, Serialize, Deserialize)]
pub struct Payload {
    pub domain_id: String,
}

/// Queues the registration of each domain an order just paid for, in the payment's transaction.
pub fn enqueue_of_order(conn: &mut DbConnection, order_id: &str) -> diesel::QueryResult<()> {
    for p in products::of_order(conn, order_id)? {
        if p.kind != ProductKind::Domain || p.status != ProductStatus::Provisioning {
            continue;
        }
        if let Some(d) = domains::of_product(conn, &p.id)?
            && d.status == DomainStatus::Registering
        {
            let mut job = NewJob::new(KIND, serde_json::json!({ "domain_id": d.id }), ATTEMPTS);
            job.unique_key = Some(format!("{KIND}:{}", d.id));
            job_rows::enqueue(conn, job)?;
        }
    }
    Ok(())
}

pub struct ProvisionDomain;

impl JobHandler for ProvisionDomain {
    fn run<'a>(
        &'a self,
        ctx: &'a JobContext,
        job: &'a ClaimedJob,
    ) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            let Payload { domain_id } = job.payload()?;
            let pool = ctx.pool.clone();
            let id = domain_id.clone();
            let found = tokio::task::spawn_blocking(move || {
                let mut conn = pool.get().map_err(|e| e.to_string())?;
                let Some(d) = domains::find_any(&mut conn, &id).map_err(|e| e.to_string())? else {
                    return Ok(None);
                };
                let p = products::find(&mut conn, &d.organization_id, &d.product_id)
                    .map_err(|e| e.to_string())?;
                Ok::<_, String>(Some((d, p)))
            })
            .await
            .map_err(|e| e.to_string())??;
            // Gone, or no longer waiting for the registry: nothing to do.
            let Some((d, Some(product))) = found else {
                return Ok(());
            };
            if d.status != DomainStatus::Registering {
                return Ok(());
            }
            let contacts = Contacts {
                owner: domains::Domain::contact(&d.owner_contact),
                admin: domains::Domain::contact(&d.admin_contact),
                tech: domains::Domain::contact(&d.tech_contact),
            };
            let years = (product.period_months / 12).max(1) as u32;
            let registry = ctx.registry.clone();
            let name = d.name.clone();
            let answer = tokio::task::spawn_blocking(move || {
                registry.create(&name, years, &contacts, false)
            })
            .await
            .map_err(|e| e.to_string())?;
            let config = ctx.config.clone();
            match answer {
                Ok(at_registry) => {
                    ctx.complete(job, move |c| {
                        crate::services::domain_provisioning::registered(
                            c,
                            &config,
                            &domain_id,
                            &at_registry,
                        )
                    })
                    .await
                }
                Err(RegistryError::NotAvailable) => {
                    tracing::warn!(domain = %d.name, "the name was taken meanwhile: refunded");
                    ctx.complete(job, move |c| {
                        crate::services::domain_provisioning::failed(
                            c,
                            &config,
                            &domain_id,
                            "not_available",
                        )
                    })
                    .await
                }
                Err(e) => Err(format!("registering {}: {e}", d.name)),
            }
        })
    }

    fn on_dead(&self, _conn: &mut DbConnection, job: &Job) -> diesel::QueryResult<()> {
        tracing::error!(
            job_id = %job.id,
            payload = %job.payload,
            "ALERT: a paid domain could not be registered after every attempt; its product stays \
             `provisioning`: check the registry, then re-run the job or refund the customer"
        );
        Ok(())
    }
}
