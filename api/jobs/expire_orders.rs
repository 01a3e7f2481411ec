//! Periodic: gives up payments the provider left unconfirmed too long, then cancels orders left
//! unpaid past their time, with their invoices and products.

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
        let config = ctx.config.clone();
        Box::pin(async move {
            ctx.complete(job, move |conn| {
                let now = crate::db::now();
                let given_up = crate::services::payments::expire_stale(conn, &config, now)?;
                if given_up > 0 {
                    tracing::info!(given_up, "gave up unconfirmed payments");
                }
                let lapsed = crate::services::renewals::lapse_pro_formas(conn, now)?;
                if lapsed > 0 {
                    tracing::info!(lapsed, "lapsed unpaid pro formas");
                }
                let expired = crate::services::orders::expire_due(conn, now)?;
                if expired > 0 {
                    tracing::info!(expired, "expired unpaid orders");
                }
                Ok(())
            })
            .await
        })
    }
}
