//! Logging and the per-request middleware: request id (taken from `X-Request-Id` or generated,
//! echoed, on every log line and in problem bodies), the access log and the HTTP metrics; a
//! panicking handler answers a 500 problem instead of dropping the connection.

use std::cell::RefCell;
use std::future::{Ready, ready};
use std::panic::AssertUnwindSafe;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Instant;

use crate::error::Status;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::error::InternalError;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::{Error, ResponseError};
use futures_util::FutureExt as _;
use futures_util::future::LocalBoxFuture;
use tracing::Instrument;

use crate::error::AppError;
use crate::metrics::{Metrics, RequestLabels, RouteLabels};

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

tokio::task_local! {
    static REQUEST_ID_SCOPE: String;
}

/// The id of the request being served on this task, if any.
pub fn current_request_id() -> Option<String> {
    REQUEST_ID_SCOPE.try_with(|id| id.clone()).ok()
}

pub fn init(json: bool, filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_writer(std::io::stderr);
    // `try_init`: tests start many servers in one process; the first subscriber stays.
    let _ = if json {
        builder.json().flatten_event(true).try_init()
    } else {
        builder.try_init()
    };
}

/// Logs of tests go through the test harness, which shows them only for failing tests.
pub fn init_for_tests(filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_test_writer()
        .try_init();
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)")
}

/// A client's request id is kept when it is short and printable; otherwise a new one is made.
fn request_id(req: &ServiceRequest) -> String {
    req.headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.chars().all(|c| c.is_ascii_graphic()))
        .map(str::to_string)
        .unwrap_or_else(|| {
            // A version-7 UUID from the thread's generator: `Uuid::now_v7` asks the kernel
            // (`getrandom`) on every call, and a request id needs no ordering between requests
            // of the same millisecond. Encoded straight into a buffer, not through `Display`.
            let mut random = [0u8; 10];
            rand::RngCore::fill_bytes(&mut rand::rng(), &mut random);
            let millis = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as u64);
            let mut buf = uuid::Uuid::encode_buffer();
            uuid::Builder::from_unix_timestamp_millis(millis, &random)
                .into_uuid()
                .hyphenated()
                .encode_lower(&mut buf)
                .to_owned()
        })
}

/// Whether the request came over TLS, or through a proxy that says so: the scheme actix's
/// `ConnectionInfo` gives (first `proto` of `Forwarded`, else the first `X-Forwarded-Proto`,
/// else the URI's or the listener's), without building it (it formats the peer address and
/// copies four strings on every request).
fn served_over_tls(req: &ServiceRequest) -> bool {
    let headers = req.headers();
    let unquote = |v: &str| -> String {
        v.trim()
            .trim_start_matches('"')
            .trim_end_matches('"')
            .to_string()
    };
    let forwarded = headers
        .get_all(header::FORWARDED)
        .filter_map(|h| h.to_str().ok())
        .flat_map(|v| v.split(';'))
        .flat_map(|v| v.split(','))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("proto"))
        .map(|(_, v)| unquote(v));
    if let Some(scheme) = forwarded {
        return scheme == "https";
    }
    if let Some(first) = headers
        .get(HeaderName::from_static("x-forwarded-proto"))
        .and_then(|h| h.to_str().ok())
        .and_then(|v| v.split(',').next())
    {
        return first.trim() == "https";
    }
    match req.uri().scheme_str() {
        Some(scheme) => scheme == "https",
        None => req.app_config().secure(),
    }
}

/// The method as a metric label, from a closed set: a made-up method (any token is a valid
/// method in HTTP) is `other`, so no client can add series to the registry. Routes are their
/// registered patterns (or `unmatched`), statuses the few actix can send: every label is bounded.
pub fn method_label(method: &actix_web::http::Method) -> &'static str {
    match method.as_str() {
        "GET" => "GET",
        "HEAD" => "HEAD",
        "POST" => "POST",
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        "OPTIONS" => "OPTIONS",
        "CONNECT" => "CONNECT",
        "TRACE" => "TRACE",
        _ => "other",
    }
}

/// Longest path and query accepted (414 `uri_too_long` beyond; actix itself answers a request
/// line over its 128 KiB buffer before any of this runs).
pub const MAX_URL_BYTES: usize = 8 * 1024;

fn url_too_long() -> AppError {
    AppError::new(
        Status::UriTooLong,
        "uri_too_long",
        format!("The path and query exceed {MAX_URL_BYTES} bytes."),
    )
}

/// On every answer: `X-Content-Type-Options: nosniff`; on every answer to a request that carried
/// credentials (`Authorization`) or was not a read (`POST`, `PUT`, `PATCH`, `DELETE`: public
/// ones carry a token in their body and may answer a secret or personal data, such as a
/// confirmed owner change's contacts), `Cache-Control: no-store` (added last, outside the
/// idempotency middleware, which keeps no answer marked so); on every answer served over TLS, or
/// behind a TLS proxy that says so (`X-Forwarded-Proto: https`, `Forwarded: proto=https`),
/// `Strict-Transport-Security` (one year, subdomains). And on every answer
/// `Referrer-Policy: no-referrer` and a `Content-Security-Policy` that no page may frame
/// (`frame-ancestors 'none'`); a JSON answer also may load nothing (`default-src 'none'`): only
/// Swagger UI's page (`/docs/`) is HTML, and it keeps its own scripts and styles (ASVS 3.4.3,
/// 3.4.5, 3.4.6).
fn secure_headers(headers: &mut actix_web::http::header::HeaderMap, private: bool, tls: bool) {
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            ct.starts_with("application/json") || ct.starts_with("application/problem+json")
        });
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(if json {
            "default-src 'none'; frame-ancestors 'none'"
        } else {
            "frame-ancestors 'none'"
        }),
    );
    if tls {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    if private {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
}

/// actix-cors answers a refused preflight with a plain-text 400: the same status as a problem.
fn cors_refusal_as_problem(res: ServiceResponse<BoxBody>) -> ServiceResponse<BoxBody> {
    let Some(refusal) = res
        .response()
        .error()
        .and_then(|e| e.as_error::<actix_cors::CorsError>())
        .map(|e| e.to_string())
    else {
        return res;
    };
    let problem = AppError::bad_request("cors_refused", format!("{refusal}."));
    let (req, _) = res.into_parts();
    ServiceResponse::new(req, problem.error_response()).map_into_boxed_body()
}

pub struct Telemetry {
    pub metrics: Arc<Metrics>,
}

impl<S, B> Transform<S, ServiceRequest> for Telemetry
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<BoxBody>;
    type Error = Error;
    type Transform = TelemetryMiddleware<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(TelemetryMiddleware {
            service: Rc::new(service),
            metrics: self.metrics.clone(),
            served_routes: Rc::default(),
        }))
    }
}

pub struct TelemetryMiddleware<S> {
    service: Rc<S>,
    metrics: Arc<Metrics>,
    served_routes: Rc<RefCell<ServedRoutes>>,
}

/// One worker's handles on the HTTP metrics of the routes it served, by route pattern, then
/// method, then status. A request is counted through this worker's own small map, not by two
/// lookups under the shared families' locks with their labels hashed each time; the handles
/// share their values with the families, so a scrape sees every worker's counts. Bounded as the
/// labels are: registered patterns (a path that matched none is `unmatched`), methods from a
/// closed set, statuses.
#[derive(Default)]
struct ServedRoutes(rustc_hash::FxHashMap<String, ServedRoute>);

struct ServedRoute {
    label: &'static str,
    methods: Vec<ServedMethod>,
}

struct ServedMethod {
    method: &'static str,
    duration: prometheus_client::metrics::histogram::Histogram,
    statuses: Vec<(u16, prometheus_client::metrics::counter::Counter)>,
}

impl ServedRoutes {
    fn count(
        &mut self,
        metrics: &Metrics,
        method: &'static str,
        pattern: Option<&str>,
        status: u16,
        seconds: f64,
    ) {
        let pattern = pattern.unwrap_or("unmatched");
        if !self.0.contains_key(pattern) {
            let label = match pattern {
                "unmatched" => "unmatched",
                p => crate::metrics::route_label(p),
            };
            self.0.insert(
                pattern.to_owned(),
                ServedRoute {
                    label,
                    methods: Vec::new(),
                },
            );
        }
        let Some(route) = self.0.get_mut(pattern) else {
            return;
        };
        let label = route.label;
        let at = match route.methods.iter().position(|m| m.method == method) {
            Some(at) => at,
            None => {
                route.methods.push(ServedMethod {
                    method,
                    duration: metrics
                        .http_duration
                        .get_or_create(&RouteLabels {
                            method,
                            route: label,
                        })
                        .clone(),
                    statuses: Vec::new(),
                });
                route.methods.len() - 1
            }
        };
        let served = &mut route.methods[at];
        served.duration.observe(seconds);
        match served.statuses.iter().find(|(s, _)| *s == status) {
            Some((_, counter)) => {
                counter.inc();
            }
            None => {
                let counter = metrics
                    .http_requests
                    .get_or_create(&RequestLabels {
                        method,
                        route: label,
                        status,
                    })
                    .clone();
                counter.inc();
                served.statuses.push((status, counter));
            }
        }
    }
}

impl<S, B> Service<ServiceRequest> for TelemetryMiddleware<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<BoxBody>;
    type Error = Error;
    type Future = LocalBoxFuture<'static, Result<Self::Response, Self::Error>>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let id = request_id(&req);
        let span = tracing::info_span!("request", request_id = %id, method = %req.method(), path = %req.path());
        let method = method_label(req.method());
        let service = self.service.clone();
        let metrics = self.metrics.clone();
        let served_routes = self.served_routes.clone();
        let started = Instant::now();
        let private = req.headers().contains_key(header::AUTHORIZATION)
            || !matches!(
                *req.method(),
                actix_web::http::Method::GET
                    | actix_web::http::Method::HEAD
                    | actix_web::http::Method::OPTIONS
            );
        let tls = served_over_tls(&req);
        let too_long = req
            .uri()
            .path_and_query()
            .is_some_and(|pq| pq.as_str().len() > MAX_URL_BYTES);
        // Made once: the answer's header shares its bytes, the scope takes the id itself.
        let id_header = HeaderValue::from_str(&id).ok();
        Box::pin(
            REQUEST_ID_SCOPE
                .scope(id, async move {
                    // The request moves into the handler (it cannot be cloned before routing), so
                    // a panic is answered as an error carrying the whole problem response.
                    let served = AssertUnwindSafe(async move {
                        if too_long {
                            return Ok(req
                                .into_response(url_too_long().error_response())
                                .map_into_boxed_body());
                        }
                        service
                            .call(req)
                            .await
                            .map(ServiceResponse::map_into_boxed_body)
                    })
                    .catch_unwind()
                    .await;
                    let res = match served {
                        Ok(Ok(res)) => res,
                        // An error a middleware gave up with: its answer, with the headers
                        // below, counted.
                        Ok(Err(e)) => {
                            let mut response = e.error_response();
                            secure_headers(response.headers_mut(), private, tls);
                            if let Some(v) = id_header {
                                response.headers_mut().insert(REQUEST_ID, v);
                            }
                            metrics
                                .http_requests
                                .get_or_create(&RequestLabels {
                                    method,
                                    route: "failed",
                                    status: response.status().as_u16(),
                                })
                                .inc();
                            return Err(InternalError::from_response(e, response).into());
                        }
                        Err(panic) => {
                            let what = panic_message(panic.as_ref());
                            metrics
                                .http_requests
                                .get_or_create(&RequestLabels {
                                    method,
                                    route: "panicked",
                                    status: 500,
                                })
                                .inc();
                            // Built here, in the request's scope: the body and the log line
                            // carry its id.
                            let mut response =
                                AppError::internal(format!("handler panicked: {what}"))
                                    .with_header(
                                        REQUEST_ID,
                                        current_request_id().unwrap_or_default(),
                                    )
                                    .error_response();
                            secure_headers(response.headers_mut(), private, tls);
                            return Err(
                                InternalError::from_response("handler panicked", response).into()
                            );
                        }
                    };
                    let mut res = cors_refusal_as_problem(res);
                    let elapsed = started.elapsed();
                    let status = res.status().as_u16();
                    // The route pattern, not the path: ids must not explode the label set.
                    let pattern = res.request().match_pattern();
                    served_routes.borrow_mut().count(
                        &metrics,
                        method,
                        pattern.as_deref(),
                        status,
                        elapsed.as_secs_f64(),
                    );
                    if let Some(v) = id_header {
                        res.headers_mut().insert(REQUEST_ID, v);
                    }
                    secure_headers(res.headers_mut(), private, tls);
                    let ms = elapsed.as_secs_f64() * 1000.0;
                    if status >= 500 {
                        tracing::error!(status, ms, "request failed");
                    } else {
                        tracing::info!(status, ms, "request");
                    }
                    Ok(res)
                })
                .instrument(span),
        )
    }
}

#[cfg(test)]
mod tests {
    use actix_web::{App, HttpResponse, test, web};

    use super::*;

    #[actix_web::test]
    async fn a_panicking_handler_answers_a_500_problem_with_the_request_id() {
        let app = test::init_service(
            App::new()
                .route(
                    "/boom",
                    web::get().to(|| async {
                        if std::hint::black_box(true) {
                            panic!("boom");
                        }
                        HttpResponse::Ok().finish()
                    }),
                )
                .route("/fine", web::get().to(HttpResponse::NoContent))
                .wrap(Telemetry {
                    metrics: Arc::new(Metrics::new()),
                }),
        )
        .await;
        let req = test::TestRequest::get()
            .uri("/boom")
            .insert_header((REQUEST_ID, "req-1"))
            .to_request();
        // actix's dispatcher answers an error with its `error_response()`.
        let Err(error) = test::try_call_service(&app, req).await else {
            panic!("a panicking handler must come out as an error");
        };
        let res = error.error_response();
        assert_eq!(res.status(), 500);
        assert_eq!(res.headers().get(&REQUEST_ID).unwrap(), "req-1");
        let bytes = actix_web::body::to_bytes(res.into_body()).await.unwrap();
        let body: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(body["code"], "internal_error");
        assert_eq!(body["request_id"], "req-1");
        assert!(!body.to_string().contains("boom"), "{body}");
        // The worker goes on serving.
        let res =
            test::call_service(&app, test::TestRequest::get().uri("/fine").to_request()).await;
        assert_eq!(res.status(), 204);
    }
}
