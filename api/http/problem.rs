//! The HTTP face of `AppError`: its status from its kind, its headers, and the problem+json
//! body (RFC 9457) with the request id. The cause of an internal error is logged, never sent.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::{HttpResponse, ResponseError};

use crate::error::{AppError, PROBLEM_JSON};

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status.as_u16()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        if let Some(internal) = &self.internal {
            tracing::error!(
                code = self.code,
                status = self.status.as_u16(),
                "{internal}"
            );
        }
        let mut res = HttpResponse::build(self.status_code());
        res.insert_header((header::CONTENT_TYPE, PROBLEM_JSON));
        for (name, value) in &self.headers {
            if let (Ok(name), Ok(value)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(value),
            ) {
                res.insert_header((name, value));
            }
        }
        res.body(
            serde_json::to_vec(&self.to_problem(crate::telemetry::current_request_id()))
                .unwrap_or_default(),
        )
    }
}
