//! Periodic: cancels orders left unpaid past their time, with their invoices and products.

use futures_util::future::BoxFuture;

use super::{ClaimedJob, JobContext, JobHandler};

pub const KIND: &str = "expire_orders";

pub struct ExpireOrders;

impl JobHandler for ExpireOrders {
    fn run<'a>(
        &'a self,
        ctx: &'a JobContext,
        job: &'a ClaimedJob,
    ) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            ctx.complete(job, |conn| {
                let expired = crate::services::orders::expire_due(conn, crate::db::now())?;
                if expired > 0 {
                    tracing::info!(expired, "expired unpaid orders");
                }
                Ok(())
            })
            .await
        })
    }
}
