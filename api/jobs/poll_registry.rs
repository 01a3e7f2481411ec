//! Periodic (every minute): reads the registry's poll queue until it is empty and applies each
//! message (`services::transfer_out::apply_message`: a transfer requested, approved, rejected or
//! cancelled), acknowledging it only after its effects committed. Applying is idempotent, so a
//! message read again after a lost acknowledgement changes nothing. Registry calls run outside
//! any transaction.

use std::time::Duration;

use futures_util::future::BoxFuture;

use super::{ClaimedJob, JobContext, JobHandler};
use crate::db;

pub const KIND: &str = "poll_registry";
pub const EVERY: Duration = Duration::from_secs(60);
/// Messages handled in one run at most (the rest wait for the next).
const BATCH: usize = 500;

pub struct PollRegistry;

impl JobHandler for PollRegistry {
    fn run<'a>(
        &'a self,
        ctx: &'a JobContext,
        job: &'a ClaimedJob,
    ) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            let mut applied = 0usize;
            for _ in 0..BATCH {
                let registry = ctx.registry.clone();
                let message = tokio::task::spawn_blocking(move || registry.poll())
                    .await
                    .map_err(|e| e.to_string())?
                    .map_err(|e| format!("polling the registry: {e}"))?;
                let Some(message) = message else { break };
                let services = ctx.services.clone();
                let m = message.clone();
                let pool = ctx.pool.clone();
                let changed = tokio::task::spawn_blocking(move || {
                    let mut conn = pool.get().map_err(|e| e.to_string())?;
                    db::write(&mut conn, |c| {
                        crate::services::transfer_out::apply_message(c, &services, &m)
                    })
                    .map_err(|e| e.to_string())
                })
                .await
                .map_err(|e| e.to_string())??;
                if changed {
                    applied += 1;
                }
                let registry = ctx.registry.clone();
                let id = message.id.clone();
                tokio::task::spawn_blocking(move || registry.ack(&id))
                    .await
                    .map_err(|e| e.to_string())?
                    .map_err(|e| format!("acknowledging a poll message: {e}"))?;
            }
            if applied > 0 {
                tracing::info!(applied, "applied registry messages");
            }
            ctx.complete(job, |_| Ok(())).await
        })
    }
}
