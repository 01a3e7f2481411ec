use std::sync::Arc;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, web};

use crate::config::Config;
use crate::db::Pool;
use crate::error::AppError;
use crate::error::responses::Common;
use crate::metrics::Metrics;
use crate::models::{jobs, mails};

/// Who may read the metrics: a client address in `LEMAN_METRICS_ALLOW` (loopback by default;
/// behind a trusted proxy, every address the request was forwarded for; through an untrusted
/// proxy, none: see `forwarded_chain`), or anyone with `Authorization: Bearer
/// <LEMAN_METRICS_TOKEN>`. Anyone else gets the 404 of an unknown route: the endpoint is not
/// advertised to strangers.
fn may_read(req: &HttpRequest, config: &Config) -> bool {
    let by_address = forwarded_chain(req, config.trust_proxy)
        .is_some_and(|chain| chain.iter().all(|ip| config.metrics_allowed(*ip)));
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

/// Every address a request came from, as far as the server can tell: with no forwarding header,
/// the peer. A request that came through a proxy (`Forwarded`, `X-Forwarded-For` or
/// `X-Real-IP`) has `None` unless `LEMAN_TRUST_PROXY` is on (behind a proxy on the same host
/// every peer is loopback, outsiders included); when it is on, every address of the chain, since
/// a client may prepend any address it likes to what an appending proxy then adds (`None` when
/// one is not an address).
fn forwarded_chain(req: &HttpRequest, trust_proxy: bool) -> Option<Vec<std::net::IpAddr>> {
    let headers = req.headers();
    let values = |name: &str| -> Vec<String> {
        headers
            .get_all(name)
            .map(|v| {
                v.to_str()
                    .map(str::to_string)
                    .unwrap_or_else(|_| "?".into())
            })
            .collect()
    };
    let (xff, forwarded, real_ip) = (
        values("x-forwarded-for"),
        values("forwarded"),
        values("x-real-ip"),
    );
    if xff.is_empty() && forwarded.is_empty() && real_ip.is_empty() {
        return req.peer_addr().map(|a| vec![a.ip()]);
    }
    if !trust_proxy {
        return None;
    }
    let mut hosts: Vec<String> = Vec::new();
    for v in xff.iter().chain(&real_ip) {
        hosts.extend(v.split(',').map(|h| h.trim().to_string()));
    }
    for v in &forwarded {
        for pair in v.split([',', ';']) {
            if let Some((key, value)) = pair.trim().split_once('=')
                && key.trim().eq_ignore_ascii_case("for")
            {
                hosts.push(value.trim().trim_matches('"').to_string());
            }
        }
    }
    hosts
        .iter()
        .map(|host| {
            // "1.2.3.4", "1.2.3.4:5678", "[::1]:5678" or "::1".
            let ip = if let Some(rest) = host.strip_prefix('[') {
                rest.split(']').next().unwrap_or(rest)
            } else if host.matches(':').count() == 1 {
                host.split(':').next().unwrap_or(host)
            } else {
                host
            };
            ip.parse().ok()
        })
        .collect()
}

/// Get Prometheus metrics
///
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
) -> Result<HttpResponse, AppError> {
    if !may_read(&req, &config) {
        return Err(AppError::not_found(format!(
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
        for &state in jobs::JobState::ALL {
            let n = job_counts
                .iter()
                .find(|(s, _)| *s == state)
                .map_or(0, |(_, n)| *n);
            metrics.state(&metrics.jobs_queued, state.as_str(), n);
        }
        for state in [mails::MailStatus::Pending, mails::MailStatus::Failed] {
            let n = mail_counts
                .iter()
                .find(|(s, _)| *s == state)
                .map_or(0, |(_, n)| *n);
            metrics.state(&metrics.mails_undelivered, state.as_str(), n);
        }
    }
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(metrics.encode()))
}
