//! Periodic: sends the outgoing webhooks due (`services::outgoing_webhooks::deliver_due`):
//! claims due deliveries (SKIP LOCKED on PostgreSQL), calls each endpoint outside any
//! transaction, then records the attempt, schedules the retry, or disables an endpoint that
//! failed for 5 days. Also `leman jobs run deliver_webhooks`.

use futures_util::future::BoxFuture;

use super::{ClaimedJob, JobContext, JobHandler};

pub const KIND: &str = "deliver_webhooks";

/// How often a pass runs (the first retry is due 5 seconds after a failure).
pub const EVERY: std::time::Duration = std::time::Duration::from_secs(5);

pub struct DeliverWebhooks;

impl JobHandler for DeliverWebhooks {
    fn run<'a>(
        &'a self,
        ctx: &'a JobContext,
        _job: &'a ClaimedJob,
    ) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            let sent =
                crate::services::outgoing_webhooks::deliver_due(&ctx.services, crate::db::now())
                    .await?;
            if sent > 0 {
                tracing::info!(sent, "webhook deliveries attempted");
            }
            Ok(())
        })
    }
}
