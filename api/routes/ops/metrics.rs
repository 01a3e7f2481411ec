use std::sync::Arc;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, web};

use crate::config::Config;
use crate::db::Pool;
use crate::error::ApiError;
use crate::error::responses::Common;
use crate::metrics::Metrics;
use crate::models::{jobs, mails};

/// Who may read the metrics: a client address in `LEMAN_METRICS_ALLOW` (loopback by default;
/// behind a trusted proxy, the forwarded client's), or anyone with `Authorization: Bearer
/// <LEMAN_METRICS_TOKEN>`. Anyone else gets the 404 of an unknown route: the endpoint is not
/// advertised to strangers.
fn may_read(req: &HttpRequest, config: &Config) -> bool {
    let by_address = crate::http::meta::client_ip(req)
        .and_then(|ip| ip.parse().ok())
        .is_some_and(|ip| config.metrics_allowed(ip));
    let by_token = config.metrics_token.as_deref().is_some_and(|expected| {
        req.headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|given| {
                // Compared as hashes: equal lengths, constant time.
                use crate::auth::secrets::{constant_time_eq, hash};
                constant_time_eq(&hash(given.trim()), &hash(expected))
            })
    });
    by_address || by_token
}

/// Prometheus metrics in the text exposition format: requests by route and status, latency,
/// database pool use, job queue depth, mail delivery. Open to the addresses of
/// `LEMAN_METRICS_ALLOW` (loopback by default) and to `Authorization: Bearer
/// <LEMAN_METRICS_TOKEN>`; anyone else gets the 404 of an unknown route.
#[utoipa::path(
    operation_id = "get_metrics",
    tag = "operations",
    responses(
        (status = 200, description = "Metrics in the Prometheus text format", content_type = "text/plain; version=0.0.4", body = String,
         example = "# HELP leman_http_requests HTTP requests by route and status.\n# TYPE leman_http_requests counter\nleman_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 1\n"),
        (status = 404, description = "The caller's address is not in `LEMAN_METRICS_ALLOW` and it sent no valid `LEMAN_METRICS_TOKEN` (`not_found`, as for an unknown route)", body = crate::error::Problem, content_type = "application/problem+json",
         example = json!({"type": "urn:leman:problem:not_found", "title": "Not Found", "status": 404, "detail": "No route matches /metrics.", "code": "not_found"})),
        Common,
    )
)]
#[get("/metrics")]
pub async fn metrics(
    req: HttpRequest,
    config: web::Data<Config>,
    pool: web::Data<Pool>,
    metrics: web::Data<Arc<Metrics>>,
) -> Result<HttpResponse, ApiError> {
    if !may_read(&req, &config) {
        return Err(ApiError::not_found(format!(
            "No route matches {}.",
            req.path()
        )));
    }
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
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(metrics.encode()))
}
