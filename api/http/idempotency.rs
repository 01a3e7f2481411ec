//! `Idempotency-Key` on authenticated POSTs. Scoped to the caller and the route (method and
//! path): the same key and body replay the stored status and body (`Idempotent-Replayed: true`);
//! the same key with another body is 422 `idempotency_key_reused`; while the first request runs,
//! 409 `idempotency_key_in_use`. Only outcomes that changed something are stored (2xx, 3xx, and
//! 402, a refused payment); any other answer (validation, conflicts, 5xx) frees the key, and so
//! does an answer marked `Cache-Control: no-store` (a secret shown once is never stored) —
//! unless the request committed a change first. Each transaction the request commits marks its
//! key `committed` in that transaction (`db::with_idempotency_row`): such a key is never freed;
//! its answer, whatever it is, is kept and replayed; and when the process dies before any
//! answer, a retry after the 5-minute lease is 409 `idempotency_key_outcome_unknown`, never a
//! second run.

use std::future::{Ready, ready};
use std::rc::Rc;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::{Error, HttpResponse, ResponseError, web};
use futures_util::TryFutureExt as _;
use futures_util::future::{Either, LocalBoxFuture, MapOk};
use sha2::{Digest, Sha256};

use crate::auth::jwt;
use crate::auth::keys::KeySet;
use crate::db::{self, Pool};
use crate::error::AppError;
use crate::models::idempotency_keys::{self, Begin};

pub const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");

/// Routes whose answer is a secret shown once (`Cache-Control: no-store`): never stored for a
/// replay, so they take no key (the spec declares none; a test keeps the two in step).
pub const SECRET_ROUTES: &[&str] = &[
    "/v1/me/tokens",
    "/v1/me/two-factor/totp",
    "/v1/me/two-factor/totp/confirm",
    "/v1/me/two-factor/recovery-codes",
    "/v1/orgs/{org_id}/webhook-endpoints",
    "/v1/orgs/{org_id}/webhook-endpoints/{webhook_endpoint_id}/secret-rotation",
];

/// Whether `path` is one of `SECRET_ROUTES` (a `{…}` segment matches any one segment).
pub fn is_secret_route(path: &str) -> bool {
    SECRET_ROUTES.iter().any(|route| {
        let (mut r, mut p) = (route.split('/'), path.split('/'));
        loop {
            match (r.next(), p.next()) {
                (None, None) => return true,
                (Some(a), Some(b)) if a == b || (a.starts_with('{') && !b.is_empty()) => {}
                _ => return false,
            }
        }
    })
}
pub const REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

/// Who is calling, for scoping keys: the user of a valid access token, or the hash of a
/// personal token. `None` when unauthenticated (the route itself will answer 401).
pub fn caller_scope(req: &actix_web::HttpRequest, keys: &KeySet) -> Option<String> {
    let auth = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let token = auth
        .strip_prefix("Bearer ")
        .or_else(|| auth.strip_prefix("bearer "))?
        .trim();
    if token.starts_with("lmn_") {
        // The token's stored hash: account deletion finds its answers by it.
        return Some(format!("tok:{}", crate::auth::secrets::hash(token)));
    }
    jwt::decode(keys, token)
        .ok()
        .map(|claims| format!("usr:{}", claims.sub))
}

fn valid_key(key: &str) -> bool {
    (1..=255).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic())
}

fn stored(status: StatusCode) -> bool {
    status.is_success() || status.is_redirection() || status == StatusCode::PAYMENT_REQUIRED
}

pub struct Idempotency;

impl<S, B> Transform<S, ServiceRequest> for Idempotency
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<BoxBody>;
    type Error = Error;
    type Transform = IdempotencyMiddleware<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, ()>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(IdempotencyMiddleware {
            service: Rc::new(service),
        }))
    }
}

pub struct IdempotencyMiddleware<S> {
    service: Rc<S>,
}

impl<S, B> Service<ServiceRequest> for IdempotencyMiddleware<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<BoxBody>;
    type Error = Error;
    /// A request without a key (every read) goes straight through, its future not boxed again.
    type Future = Either<
        MapOk<S::Future, fn(ServiceResponse<B>) -> ServiceResponse<BoxBody>>,
        LocalBoxFuture<'static, Result<Self::Response, Error>>,
    >;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let key = match req.headers().get(&IDEMPOTENCY_KEY) {
            Some(key) if req.method() == Method::POST && !is_secret_route(req.path()) => {
                key.to_str().unwrap_or("").to_string()
            }
            _ => {
                return Either::Left(
                    self.service
                        .call(req)
                        .map_ok(ServiceResponse::map_into_boxed_body as fn(_) -> _),
                );
            }
        };
        let service = self.service.clone();
        Either::Right(Box::pin(async move {
            let (Some(pool), Some(keys)) = (
                req.app_data::<web::Data<Pool>>().cloned(),
                req.app_data::<web::Data<KeySet>>().cloned(),
            ) else {
                return service
                    .call(req)
                    .await
                    .map(ServiceResponse::map_into_boxed_body);
            };
            let Some(caller) = caller_scope(req.request(), &keys) else {
                return service
                    .call(req)
                    .await
                    .map(ServiceResponse::map_into_boxed_body);
            };
            // A stored answer goes only to a caller who may still call: an ended session or a
            // revoked token gets its 401 (or 403) here, not a replay.
            match <crate::auth::Caller as actix_web::FromRequest>::extract(req.request()).await {
                // Kept for the handler's own extractor: one caller query per request.
                Ok(checked) => {
                    actix_web::HttpMessage::extensions_mut(&req).insert(checked);
                }
                Err(e) => {
                    let response = actix_web::ResponseError::error_response(&e);
                    return Ok(req.into_response(response));
                }
            }
            let (http_req, mut payload) = req.into_parts();
            if !valid_key(&key) {
                let e = AppError::field(
                    "Idempotency-Key",
                    "invalid",
                    "must be 1 to 255 visible ASCII characters",
                );
                return Ok(ServiceResponse::new(http_req, e.error_response()));
            }
            let body = match crate::http::json::read_body(&http_req, &mut payload).await {
                Ok(body) => body,
                Err(e) => return Ok(ServiceResponse::new(http_req, e.error_response())),
            };
            let route = format!("{} {}", http_req.method(), http_req.path());
            let hash = hex::encode(Sha256::digest(canonical(&body)));
            let (c, r, k) = (caller.clone(), route.clone(), key.clone());
            let begun = db::run(&pool, move |conn| {
                Ok(idempotency_keys::begin(conn, &c, &r, &k, &hash)?)
            })
            .await;
            let row_id = match begun {
                Ok(Begin::Proceed(id)) => id,
                Ok(Begin::Replay {
                    status,
                    content_type,
                    body,
                }) => {
                    // An organisation's answer goes only to who is still its member: one who
                    // left or was removed since gets the route's own 404.
                    if let Err(e) = still_member(&pool, &http_req).await {
                        return Ok(ServiceResponse::new(http_req, e.error_response()));
                    }
                    let mut res =
                        HttpResponse::build(StatusCode::from_u16(status).unwrap_or(StatusCode::OK));
                    if let Some(ct) = content_type {
                        res.insert_header((header::CONTENT_TYPE, ct));
                    }
                    res.insert_header((REPLAYED, HeaderValue::from_static("true")));
                    return Ok(ServiceResponse::new(http_req, res.body(body)));
                }
                Ok(Begin::Mismatch) => {
                    let e = AppError::unprocessable(
                        "idempotency_key_reused",
                        "This Idempotency-Key was already used with a different request body.",
                    );
                    return Ok(ServiceResponse::new(http_req, e.error_response()));
                }
                Ok(Begin::Lost) => {
                    let e = AppError::conflict(
                        "idempotency_key_outcome_unknown",
                        "The request with this Idempotency-Key changed something, but the server stopped before answering: it is not run again. Read the resource to see the outcome; use a new key to act again.",
                    );
                    return Ok(ServiceResponse::new(http_req, e.error_response()));
                }
                Ok(Begin::InFlight) => {
                    let e = AppError::conflict(
                        "idempotency_key_in_use",
                        "A request with this Idempotency-Key is still being processed; retry later.",
                    )
                    .with_header(header::RETRY_AFTER, "1");
                    return Ok(ServiceResponse::new(http_req, e.error_response()));
                }
                Err(e) => return Ok(ServiceResponse::new(http_req, e.error_response())),
            };

            let req = ServiceRequest::from_parts(http_req, Payload::from(body));
            // Each transaction the request commits marks the key `committed` with it.
            let outcome = db::with_idempotency_row(row_id.clone(), service.call(req)).await;
            let release = |pool: web::Data<Pool>, id: String| async move {
                let _ = db::run(&pool, move |conn| Ok(idempotency_keys::release(conn, &id)?)).await;
            };
            let res = match outcome {
                Ok(res) => res,
                Err(e) => {
                    release(pool, row_id).await;
                    return Err(e);
                }
            };
            // A secret shown once (`Cache-Control: no-store`) is never kept: a retry acts again.
            let no_store = res
                .headers()
                .get(header::CACHE_CONTROL)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.contains("no-store"));
            if no_store {
                release(pool, row_id).await;
                return Ok(res.map_into_boxed_body());
            }
            // An answer not normally kept is kept all the same when the request committed a
            // change first (`complete_committed`): a retry must replay it, not act again.
            let keep = stored(res.status());
            let (http_req, res) = res.into_parts();
            let (head, body) = res.into_parts();
            let bytes = match actix_web::body::to_bytes(body).await {
                Ok(bytes) => bytes,
                Err(_) => {
                    release(pool, row_id).await;
                    let e = AppError::internal("reading the response body failed");
                    return Ok(ServiceResponse::new(http_req, e.error_response()));
                }
            };
            let status = head.status().as_u16();
            let content_type = head
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            match String::from_utf8(bytes.to_vec()) {
                Ok(text) => {
                    let saved = db::run(&pool, move |conn| {
                        if keep {
                            return Ok(idempotency_keys::complete(
                                conn,
                                &row_id,
                                status,
                                content_type.as_deref(),
                                &text,
                            )?);
                        }
                        idempotency_keys::complete_committed(
                            conn,
                            &row_id,
                            status,
                            content_type.as_deref(),
                            &text,
                        )?;
                        Ok(idempotency_keys::release(conn, &row_id)?)
                    })
                    .await;
                    if let Err(e) = saved {
                        tracing::error!("storing an idempotent response: {e}");
                    }
                }
                Err(_) => release(pool, row_id).await,
            }
            Ok(ServiceResponse::new(
                http_req,
                head.set_body(bytes).map_into_boxed_body(),
            ))
        }))
    }
}

/// For a path under `/v1/orgs/{org_id}`: whether the checked caller is still a member (the
/// membership check every organisation route makes first), else its error (404). Leaving is the
/// exception: the answer (204, no body) to a retried leave is the one whose request ended the
/// membership.
async fn still_member(pool: &Pool, req: &actix_web::HttpRequest) -> Result<(), AppError> {
    let mut rest = req
        .path()
        .strip_prefix("/v1/orgs/")
        .unwrap_or("")
        .split('/');
    let Some(raw) = rest.next().filter(|raw| !raw.is_empty()) else {
        return Ok(());
    };
    if rest.next() == Some("leave") && rest.next().is_none() {
        return Ok(());
    }
    let caller = actix_web::HttpMessage::extensions(req)
        .get::<crate::auth::Caller>()
        .cloned();
    let Some(caller) = caller else {
        return Ok(());
    };
    let org_id = crate::domain::ids::OrgId::parse(raw)?;
    db::run(pool, move |conn| {
        crate::services::orgs::authorize(conn, &caller, &org_id, crate::domain::orgs::Need::Member)
            .map(|_| ())
    })
    .await
}

/// What a key is compared on: the same JSON with its keys in another order or other white
/// space is the same request (clients re-serialise on retry); anything else, byte for byte.
fn canonical(body: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(mut value) => {
            value.sort_all_objects();
            std::borrow::Cow::Owned(serde_json::to_vec(&value).unwrap_or_default())
        }
        Err(_) => std::borrow::Cow::Borrowed(body),
    }
}

/// Property tests (issue 15, part 7): any key and any body are compared without panic; the
/// same JSON re-serialised in another key order is the same request.
#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn any_key_is_checked_without_panic(key in any::<String>()) {
            prop_assert_eq!(
                valid_key(&key),
                !key.is_empty() && key.len() <= 255 && key.bytes().all(|b| b.is_ascii_graphic())
            );
        }

        #[test]
        fn any_body_is_canonical_and_key_order_does_not_matter(
            bytes in any::<Vec<u8>>(),
            fields in proptest::collection::btree_map("[a-z]{1,6}", any::<i64>(), 0..8),
        ) {
            let _ = canonical(&bytes);
            let forward: Vec<String> = fields.iter().map(|(k, v)| format!("\"{k}\": {v}")).collect();
            let backward: Vec<String> = forward.iter().rev().cloned().collect();
            let a = format!("{{{}}}", forward.join(","));
            let b = format!("{{ {} }}", backward.join(" ,\n"));
            prop_assert_eq!(canonical(a.as_bytes()), canonical(b.as_bytes()));
        }
    }
}
