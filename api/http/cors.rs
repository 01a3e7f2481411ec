//! Cross-origin requests: actix-cors for the configured origins, run only for requests that
//! carry an `Origin` header. Every other request (servers, scripts, generated clients: nearly all
//! of them) goes straight to the application, its answer marked `Vary: Origin` so a cache never
//! hands it to a browser's cross-origin request. actix-cors on such a request only boxed its
//! future and added `Access-Control-Expose-Headers`, which no browser reads without an `Origin`.

use std::rc::Rc;

use actix_web::Error;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::http::header::{self, HeaderValue};
use futures_util::FutureExt as _;
use futures_util::future::{Either, LocalBoxFuture, Map};

/// The CORS policy: the configured origins may call with a bearer token and read the headers a
/// client needs (request id, `Retry-After`, `Location`, `Idempotent-Replayed`).
pub fn policy(origins: &[String]) -> actix_cors::Cors {
    let mut cors = actix_cors::Cors::default()
        .allowed_methods(["GET", "POST", "PUT", "PATCH", "DELETE"])
        .allowed_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::ACCEPT,
            header::ACCEPT_LANGUAGE,
            crate::http::idempotency::IDEMPOTENCY_KEY,
            crate::telemetry::REQUEST_ID,
        ])
        .expose_headers([
            crate::telemetry::REQUEST_ID,
            header::RETRY_AFTER,
            header::LOCATION,
            crate::http::idempotency::REPLAYED,
        ])
        .max_age(3600)
        // A foreign origin gets no CORS headers (the browser then refuses the response) rather
        // than an error: same-origin pages such as /docs keep working.
        .block_on_origin_mismatch(false);
    for origin in origins {
        cors = cors.allowed_origin(origin);
    }
    cors
}

/// `policy` for requests with an `Origin`; the others pass by it.
pub struct OriginCors(pub actix_cors::Cors);

impl<S, B> Transform<S, ServiceRequest> for OriginCors
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    S::Future: 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Transform = OriginCorsMiddleware<S>;
    type InitError = ();
    type Future = LocalBoxFuture<'static, Result<Self::Transform, ()>>;

    fn new_transform(&self, service: S) -> Self::Future {
        let app = Rc::new(service);
        let cors = self.0.new_transform(app.clone());
        Box::pin(async move {
            Ok(OriginCorsMiddleware {
                cors: cors.await?,
                app,
            })
        })
    }
}

pub struct OriginCorsMiddleware<S> {
    cors: actix_cors::CorsMiddleware<Rc<S>>,
    app: Rc<S>,
}

impl<S, B> Service<ServiceRequest> for OriginCorsMiddleware<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    S::Future: 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Future = Either<
        <actix_cors::CorsMiddleware<Rc<S>> as Service<ServiceRequest>>::Future,
        Map<S::Future, fn(Result<ServiceResponse<B>, Error>) -> Result<Self::Response, Error>>,
    >;

    forward_ready!(app);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        if req.headers().contains_key(header::ORIGIN) {
            Either::Left(self.cors.call(req))
        } else {
            Either::Right(self.app.call(req).map(vary_origin as fn(_) -> _))
        }
    }
}

/// The application's answer to a request without `Origin`, marked `Vary: Origin`.
fn vary_origin<B>(
    res: Result<ServiceResponse<B>, Error>,
) -> Result<ServiceResponse<EitherBody<B>>, Error> {
    let mut res = res?;
    let headers = res.headers_mut();
    let value = match headers.get(header::VARY) {
        None => Some(HeaderValue::from_static("Origin")),
        Some(v) if v.as_bytes().eq_ignore_ascii_case(b"origin") => None,
        Some(v) => HeaderValue::from_bytes(&[v.as_bytes(), b", Origin"].concat()).ok(),
    };
    if let Some(value) = value {
        headers.insert(header::VARY, value);
    }
    Ok(res.map_into_left_body())
}
