//! Periodic: moves the products whose term ended unrenewed one step on (expired, suspended,
//! cancelled), and cancels those whose confirmed cancellation is due (`services::product_expiry`).

use futures_util::future::BoxFuture;

use super::{ClaimedJob, JobContext, JobHandler};

pub const KIND: &str = "expire_products";

pub struct ExpireProducts;

impl JobHandler for ExpireProducts {
    fn run<'a>(
        &'a self,
        ctx: &'a JobContext,
        job: &'a ClaimedJob,
    ) -> BoxFuture<'a, Result<(), String>> {
        let (config, catalog) = (ctx.config.clone(), ctx.catalog.clone());
        Box::pin(async move {
            ctx.complete(job, move |conn| {
                let now = crate::db::now();
                let done = crate::services::product_expiry::run(conn, &config, &catalog, now)?;
                if done.total() > 0 {
                    tracing::info!(
                        expired = done.expired,
                        suspended = done.suspended,
                        cancelled = done.cancelled + done.cancellations_effective,
                        "products lapsed"
                    );
                }
                Ok(())
            })
            .await
        })
    }
}
