//! Periodic (daily): removes the task files whose download links expired (`tasks::FILE_DAYS`
//! after the task finished). The task stays, its result saying when the file expired.

use futures_util::future::BoxFuture;

use super::{ClaimedJob, JobContext, JobHandler};

pub const KIND: &str = "purge_task_files";

pub const EVERY: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

pub struct PurgeTaskFiles;

impl JobHandler for PurgeTaskFiles {
    fn run<'a>(
        &'a self,
        ctx: &'a JobContext,
        _job: &'a ClaimedJob,
    ) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            let removed = crate::db::run(&ctx.pool, |conn| {
                let mut total = 0;
                // Up to 100 files a round, until none is left.
                loop {
                    let n = crate::services::tasks::purge_expired(conn, crate::db::now())?;
                    total += n;
                    if n < 100 {
                        return Ok(total);
                    }
                }
            })
            .await
            .map_err(|e| e.to_string())?;
            tracing::info!(removed, "purged expired task files");
            Ok(())
        })
    }
}
