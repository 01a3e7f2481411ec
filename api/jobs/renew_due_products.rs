//! Periodic: the renewal scheduler's pass (`services::renewal_scheduler::run`): automatic
//! renewals due (R40) with their retries, reconciliation of charges a dead pass left pending,
//! and reminders of products without auto-renewal. The pass makes its own transactions (a
//! charge is never made inside one), so the job completes without effects of its own.

use futures_util::future::BoxFuture;

use super::{ClaimedJob, JobContext, JobHandler};

pub const KIND: &str = "renew_due_products";

/// How often a pass runs.
pub const EVERY: std::time::Duration = std::time::Duration::from_secs(15 * 60);

pub struct RenewDueProducts;

impl JobHandler for RenewDueProducts {
    fn run<'a>(
        &'a self,
        ctx: &'a JobContext,
        _job: &'a ClaimedJob,
    ) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            let report = crate::services::renewal_scheduler::run(&ctx.services, crate::db::now())
                .await
                .map_err(|e| format!("renewal pass: {e}"))?;
            tracing::info!(?report, "renewal pass done");
            Ok(())
        })
    }
}
