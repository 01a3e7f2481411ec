//! Periodic: purges deleted organisations whose legal retention period is over.

use futures_util::future::BoxFuture;

use super::{ClaimedJob, JobContext, JobHandler};

pub const KIND: &str = "purge_organizations";

pub struct PurgeOrganizations;

impl JobHandler for PurgeOrganizations {
    fn run<'a>(
        &'a self,
        ctx: &'a JobContext,
        job: &'a ClaimedJob,
    ) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            ctx.complete(job, |conn| {
                let purged = crate::services::org_deletion::purge_due(conn, crate::db::now())?;
                if purged > 0 {
                    tracing::info!(purged, "purged deleted organisations");
                }
                Ok(())
            })
            .await
        })
    }
}
