//! Periodic (daily): deletes the webhook deliveries that finished (succeeded or given up) more
//! than `KEEP_DAYS` ago, so the delivery log (`GET …/deliveries`) shows a month and the table
//! does not grow without end. Pending deliveries are never touched.

use futures_util::future::BoxFuture;

use super::{ClaimedJob, JobContext, JobHandler};

pub const KIND: &str = "purge_webhook_deliveries";

pub const EVERY: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// How long a finished delivery stays in the log (longer than the 3-day retry window and the
/// 5-day disable window, so a disabled endpoint's failures can still be read).
pub const KEEP_DAYS: i64 = 30;

/// Deliveries deleted per transaction.
const BATCH: i64 = 1000;

pub struct PurgeWebhookDeliveries;

impl JobHandler for PurgeWebhookDeliveries {
    fn run<'a>(
        &'a self,
        ctx: &'a JobContext,
        _job: &'a ClaimedJob,
    ) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            let cutoff = crate::db::now() - chrono::Duration::days(KEEP_DAYS);
            let removed = crate::db::run(&ctx.pool, move |conn| {
                let mut total = 0;
                loop {
                    let n = crate::db::write(conn, |c| {
                        crate::models::webhook_deliveries::purge_finished(c, cutoff, BATCH)
                    })
                    .map_err(crate::error::AppError::from)?;
                    total += n;
                    if (n as i64) < BATCH {
                        return Ok(total);
                    }
                }
            })
            .await
            .map_err(|e| e.to_string())?;
            tracing::info!(removed, "purged finished webhook deliveries");
            Ok(())
        })
    }
}
