//! Periodic: removes idempotency keys older than their 24 hours.

use futures_util::future::BoxFuture;

use super::{ClaimedJob, JobContext, JobHandler};
use crate::models::idempotency_keys;

pub const KIND: &str = "purge_idempotency_keys";

pub struct PurgeIdempotencyKeys;

impl JobHandler for PurgeIdempotencyKeys {
    fn run<'a>(
        &'a self,
        ctx: &'a JobContext,
        job: &'a ClaimedJob,
    ) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            ctx.complete(job, |conn| {
                let removed = idempotency_keys::purge_expired(conn, crate::db::now())?;
                tracing::info!(removed, "purged expired idempotency keys");
                Ok(())
            })
            .await
        })
    }
}
