use std::sync::Arc;

use actix_web::{HttpResponse, get, web};

use crate::db::Pool;
use crate::error::responses::Common;
use crate::metrics::Metrics;
use crate::models::{jobs, mails};

/// Prometheus metrics in the text exposition format: requests by route and status, latency,
/// database pool use, job queue depth, mail delivery.
#[utoipa::path(
    operation_id = "get_metrics",
    tag = "operations",
    responses(
        (status = 200, description = "Metrics in the Prometheus text format", content_type = "text/plain; version=0.0.4", body = String,
         example = "# HELP leman_http_requests HTTP requests by route and status.\n# TYPE leman_http_requests counter\nleman_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 1\n"),
        Common,
    )
)]
#[get("/metrics")]
pub async fn metrics(pool: web::Data<Pool>, metrics: web::Data<Arc<Metrics>>) -> HttpResponse {
    let state = pool.state();
    metrics.state(&metrics.db_pool, "idle", state.idle_connections as i64);
    metrics.state(
        &metrics.db_pool,
        "in_use",
        (state.connections - state.idle_connections) as i64,
    );
    let pool = pool.get_ref().clone();
    let counts = web::block(move || -> Result<_, String> {
        let mut conn = pool
            .get_timeout(std::time::Duration::from_secs(2))
            .map_err(|e| e.to_string())?;
        let jobs = jobs::counts(&mut conn).map_err(|e| e.to_string())?;
        let mails = mails::undelivered_counts(&mut conn).map_err(|e| e.to_string())?;
        Ok((jobs, mails))
    })
    .await;
    if let Ok(Ok((job_counts, mail_counts))) = counts {
        for state in [jobs::PENDING, jobs::RUNNING, jobs::DEAD] {
            let n = job_counts
                .iter()
                .find(|(s, _)| s == state)
                .map_or(0, |(_, n)| *n);
            metrics.state(&metrics.jobs_queued, state, n);
        }
        for state in [mails::PENDING, mails::FAILED] {
            let n = mail_counts
                .iter()
                .find(|(s, _)| s == state)
                .map_or(0, |(_, n)| *n);
            metrics.state(&metrics.mails_undelivered, state, n);
        }
    }
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(metrics.encode())
}
