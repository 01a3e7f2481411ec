//! The one error type of services and everything below them: a stable `code`, a kind that says
//! what went wrong (not found, conflict, …), a detail for people and per-field errors. It knows
//! nothing of HTTP: `http::problem` maps it to an RFC 9457 `application/problem+json` answer
//! (the kind gives the status).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// One invalid field of a request.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct FieldError {
    /// JSON pointer (RFC 6901) to the field in the request body, or the name of the query or
    /// path parameter.
    #[schema(example = "/email")]
    pub field: String,
    /// Stable machine-readable reason.
    #[schema(example = "invalid_format")]
    pub code: String,
    /// Human-readable explanation.
    #[schema(example = "not a valid email address")]
    pub message: String,
}

/// An RFC 9457 problem details object.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "type": "urn:leman:problem:validation_failed",
    "title": "Unprocessable Content",
    "status": 422,
    "detail": "The request body is not valid.",
    "code": "validation_failed",
    "request_id": "01890a5d-ac96-774b-bcce-b302099a8057",
    "errors": [{"field": "/email", "code": "invalid_type", "message": "invalid type: integer `3`, expected a string"}]
}))]
pub struct Problem {
    /// URI identifying the problem type: `urn:leman:problem:<code>`.
    #[serde(rename = "type")]
    pub type_: String,
    /// Short summary of the HTTP status.
    pub title: String,
    /// HTTP status code.
    pub status: u16,
    /// What went wrong, for a human.
    pub detail: String,
    /// Stable machine-readable error code.
    pub code: String,
    /// The request id (also in the `X-Request-Id` response header), to quote to support.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// Per-field errors, for validation failures.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

/// What kind of failure an error is; the HTTP layer answers it with the status named alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    BadRequest,
    Unauthorized,
    PaymentRequired,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    Conflict,
    Gone,
    PayloadTooLarge,
    UriTooLong,
    UnsupportedMediaType,
    UnprocessableEntity,
    TooManyRequests,
    InternalServerError,
    ServiceUnavailable,
    InsufficientStorage,
}

impl Status {
    pub fn as_u16(self) -> u16 {
        match self {
            Status::BadRequest => 400,
            Status::Unauthorized => 401,
            Status::PaymentRequired => 402,
            Status::Forbidden => 403,
            Status::NotFound => 404,
            Status::MethodNotAllowed => 405,
            Status::Conflict => 409,
            Status::Gone => 410,
            Status::PayloadTooLarge => 413,
            Status::UriTooLong => 414,
            Status::UnsupportedMediaType => 415,
            Status::UnprocessableEntity => 422,
            Status::TooManyRequests => 429,
            Status::InternalServerError => 500,
            Status::ServiceUnavailable => 503,
            Status::InsufficientStorage => 507,
        }
    }

    /// The status's reason phrase, the problem's `title`.
    pub fn title(self) -> &'static str {
        match self {
            Status::BadRequest => "Bad Request",
            Status::Unauthorized => "Unauthorized",
            Status::PaymentRequired => "Payment Required",
            Status::Forbidden => "Forbidden",
            Status::NotFound => "Not Found",
            Status::MethodNotAllowed => "Method Not Allowed",
            Status::Conflict => "Conflict",
            Status::Gone => "Gone",
            Status::PayloadTooLarge => "Payload Too Large",
            Status::UriTooLong => "URI Too Long",
            Status::UnsupportedMediaType => "Unsupported Media Type",
            Status::UnprocessableEntity => "Unprocessable Content",
            Status::TooManyRequests => "Too Many Requests",
            Status::InternalServerError => "Internal Server Error",
            Status::ServiceUnavailable => "Service Unavailable",
            Status::InsufficientStorage => "Insufficient Storage",
        }
    }

    /// A failure on our side (or a provider's), not the client's.
    pub fn is_server_error(self) -> bool {
        self.as_u16() >= 500
    }
}

#[derive(Debug, Clone)]
pub struct AppError {
    pub status: Status,
    pub code: &'static str,
    pub detail: String,
    pub errors: Vec<FieldError>,
    /// Headers the answer carries (`Retry-After`, `WWW-Authenticate`, `Allow`), lower case.
    pub headers: Vec<(String, String)>,
    /// Logged, never sent.
    pub internal: Option<String>,
}

impl AppError {
    pub fn invalid_token() -> Self {
        Self::bad_request(
            "invalid_token",
            "This link is invalid, already used or expired.",
        )
    }

    pub fn new(status: Status, code: &'static str, detail: impl Into<String>) -> Self {
        Self {
            status,
            code,
            detail: detail.into(),
            errors: vec![],
            headers: vec![],
            internal: None,
        }
    }

    pub fn with_header(mut self, name: impl AsRef<str>, value: impl AsRef<str>) -> Self {
        self.headers.push((
            name.as_ref().to_ascii_lowercase(),
            value.as_ref().to_string(),
        ));
        self
    }

    /// Tells the client to wait `secs` seconds before trying again.
    pub fn retry_after(self, secs: u64) -> Self {
        self.with_header("retry-after", secs.to_string())
    }

    pub fn bad_request(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(Status::BadRequest, code, detail)
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(Status::NotFound, "not_found", detail)
    }

    pub fn conflict(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(Status::Conflict, code, detail)
    }

    pub fn unprocessable(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(Status::UnprocessableEntity, code, detail)
    }

    pub fn validation(errors: Vec<FieldError>) -> Self {
        let mut e = Self::unprocessable("validation_failed", "The request is not valid.");
        e.errors = errors;
        e
    }

    pub fn field(field: &str, code: &str, message: impl Into<String>) -> Self {
        Self::validation(vec![FieldError {
            field: field.to_string(),
            code: code.to_string(),
            message: message.into(),
        }])
    }

    pub fn unavailable(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(Status::ServiceUnavailable, code, detail)
    }

    /// Something unexpected: the cause is logged, the client sees a generic body.
    pub fn internal(cause: impl Into<String>) -> Self {
        let mut e = Self::new(
            Status::InternalServerError,
            "internal_error",
            "An unexpected error occurred. Quote the request id to support.",
        );
        e.internal = Some(cause.into());
        e
    }

    /// No connection could be had from the pool within its bounded wait: the database is down
    /// or unreachable (`database_unavailable`).
    pub fn from_pool(e: diesel::r2d2::PoolError) -> Self {
        Self::database_unavailable(e.to_string())
    }

    pub fn to_problem(&self, request_id: Option<String>) -> Problem {
        Problem {
            type_: format!("urn:leman:problem:{}", self.code),
            title: self.status.title().to_string(),
            status: self.status.as_u16(),
            detail: self.detail.clone(),
            code: self.code.to_string(),
            request_id,
            errors: self.errors.clone(),
        }
    }
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status.as_u16(), self.code, self.detail)?;
        if let Some(internal) = &self.internal {
            write!(f, " ({internal})")?;
        }
        Ok(())
    }
}

impl From<diesel::result::Error> for AppError {
    fn from(e: diesel::result::Error) -> Self {
        if crate::db::is_retryable(&e) {
            return AppError::busy(format!("database: {e}"));
        }
        match crate::db::failure(&e) {
            Some(crate::db::Failure::Unavailable) => {
                AppError::database_unavailable(format!("database: {e}"))
            }
            Some(crate::db::Failure::ReadOnly) => AppError::read_only(format!("database: {e}")),
            Some(crate::db::Failure::Full) => AppError::storage_full(format!("database: {e}")),
            None => AppError::internal(format!("database: {e}")),
        }
    }
}

pub const DATABASE_UNAVAILABLE: &str = "database_unavailable";
pub const DATABASE_READ_ONLY: &str = "database_read_only";
pub const STORAGE_FULL: &str = "storage_full";

/// Seconds a client is told to wait when the database is down: about how long the pool takes
/// to notice it is back (`db::RECONNECT_EVERY`) plus a margin.
pub const DATABASE_RETRY_AFTER: u64 = 5;

impl AppError {
    /// The database cannot be reached (connection refused or lost, a server shutting down or
    /// starting up, no pooled connection within the bounded wait) or its storage failed (a
    /// SQLite I/O error): nothing was changed by this request's failed statement, retry later.
    pub fn database_unavailable(cause: impl Into<String>) -> Self {
        let mut e = Self::unavailable(
            DATABASE_UNAVAILABLE,
            "The database is not reachable at the moment; retry in a few seconds.",
        )
        .retry_after(DATABASE_RETRY_AFTER);
        e.internal = Some(cause.into());
        e
    }

    /// The database refuses writes (a SQLite file or volume made read-only): reads still work,
    /// this change was not made.
    pub fn read_only(cause: impl Into<String>) -> Self {
        let mut e = Self::unavailable(
            DATABASE_READ_ONLY,
            "The database is read-only at the moment: nothing was changed. Retry later.",
        )
        .retry_after(60);
        e.internal = Some(cause.into());
        e
    }

    /// The disk under the database is full (SQLite `SQLITE_FULL`): the change was rolled back.
    pub fn storage_full(cause: impl Into<String>) -> Self {
        let mut e = Self::new(
            Status::InsufficientStorage,
            STORAGE_FULL,
            "The server's storage is full: nothing was changed. Retry later.",
        )
        .retry_after(60);
        e.internal = Some(cause.into());
        e
    }
}

pub const DATABASE_BUSY: &str = "database_busy";

impl AppError {
    /// A transaction the database aborted because a concurrent one got in the way (a deadlock, a
    /// serialization failure) even after `db::write_retrying` ran it again: nothing was changed,
    /// the client may retry. Declared as `responses::Busy`.
    pub fn busy(cause: impl Into<String>) -> Self {
        let mut e = Self::unavailable(
            DATABASE_BUSY,
            "Concurrent changes to the same data got in the way; nothing was changed. Retry in a moment.",
        )
        .retry_after(1);
        e.internal = Some(cause.into());
        e
    }

    /// Whether the connection that gave this error must not be reused (`db::discard`): lost, or
    /// unable to write (opened read-only, an I/O error); a full disk is no reason.
    pub fn discards_connection(&self) -> bool {
        self.code == DATABASE_UNAVAILABLE || self.code == DATABASE_READ_ONLY
    }

    /// Whether running the transaction again may succeed (`busy`).
    pub fn is_retryable(&self) -> bool {
        self.code == DATABASE_BUSY
    }
}

/// The answers every operation under `/v1` can give when the database fails, added to the spec
/// in one pass (`openapi_quality`) rather than to 110 `#[utoipa::path]` attributes: a 503
/// (`database_unavailable`, `database_read_only`; merged into the description of a 503 the
/// route already declares, such as `database_busy`) and a 507 (`storage_full`). The operations
/// endpoints at the root answer their own way (`/readyz`: `not_ready`) and are left alone.
pub fn declare_database_failures(doc: &mut serde_json::Value) {
    use serde_json::json;
    const UNAVAILABLE: &str = "the database is unreachable (`database_unavailable`) or read-only (`database_read_only`); nothing was changed: retry after `Retry-After` seconds";
    let Some(paths) = doc.get_mut("paths").and_then(|p| p.as_object_mut()) else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        if !path.starts_with("/v1/") {
            continue;
        }
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for op in item.values_mut() {
            let Some(responses) = op.get_mut("responses").and_then(|r| r.as_object_mut()) else {
                continue;
            };
            match responses.get_mut("503") {
                Some(existing) => {
                    let described = existing["description"].as_str().unwrap_or_default();
                    if !described.contains("`database_unavailable`") {
                        existing["description"] = json!(format!(
                            "{}; or the database is unreachable (`database_unavailable`) or read-only (`database_read_only`)",
                            described.trim_end_matches('.')
                        ));
                    }
                }
                None => {
                    let mut first = UNAVAILABLE.to_string();
                    first[..1].make_ascii_uppercase();
                    responses.insert(
                        "503".into(),
                        json!({
                            "description": first,
                            "content": {"application/problem+json": {
                                "schema": {"$ref": "#/components/schemas/Problem"},
                                "example": {"type": "urn:leman:problem:database_unavailable", "title": "Service Unavailable", "status": 503, "detail": "The database is not reachable at the moment; retry in a few seconds.", "code": DATABASE_UNAVAILABLE}
                            }}
                        }),
                    );
                }
            }
            responses.entry("507").or_insert_with(|| {
                json!({
                    "description": "The disk under the database is full (`storage_full`); nothing was changed: retry after `Retry-After` seconds",
                    "headers": {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer", "minimum": 0}}},
                    "content": {"application/problem+json": {
                        "schema": {"$ref": "#/components/schemas/Problem"},
                        "example": {"type": "urn:leman:problem:storage_full", "title": "Insufficient Storage", "status": 507, "detail": "The server's storage is full: nothing was changed. Retry later.", "code": STORAGE_FULL}
                    }}
                })
            });
        }
    }
}

/// Declares problem responses in the spec: `problem_responses!(400, 422)` style via the types
/// below, so every route lists exactly the errors it can return.
pub mod responses {
    use super::Problem;
    use utoipa::IntoResponses;

    /// Errors every route can return.
    #[derive(IntoResponses)]
    pub enum Common {
        /// An unexpected error; the body carries no internals.
        #[response(status = 500, content_type = "application/problem+json", example = json!({"type": "urn:leman:problem:internal_error", "title": "Internal Server Error", "status": 500, "detail": "An unexpected error occurred. Quote the request id to support.", "code": "internal_error", "request_id": "01890a5d-ac96-774b-bcce-b302099a8057"}))]
        Internal(Problem),
        /// The path and query exceed 8 KiB (`uri_too_long`).
        #[response(status = 414, content_type = "application/problem+json", example = json!({"type": "urn:leman:problem:uri_too_long", "title": "URI Too Long", "status": 414, "detail": "The path and query exceed 8192 bytes.", "code": "uri_too_long"}))]
        UriTooLong(Problem),
    }

    /// Errors of every route that reads a JSON body.
    #[derive(IntoResponses)]
    pub enum JsonBody {
        /// The body is not well-formed JSON (`malformed_json`).
        #[response(status = 400, content_type = "application/problem+json", example = json!({"type": "urn:leman:problem:malformed_json", "title": "Bad Request", "status": 400, "detail": "The body is not valid JSON: EOF while parsing an object at line 1 column 1.", "code": "malformed_json"}))]
        Malformed(Problem),
        /// The body is larger than 1 MiB (`payload_too_large`).
        #[response(status = 413, content_type = "application/problem+json", example = json!({"type": "urn:leman:problem:payload_too_large", "title": "Payload Too Large", "status": 413, "detail": "The request body exceeds 1048576 bytes.", "code": "payload_too_large"}))]
        TooLarge(Problem),
        /// The body is not `application/json` (`unsupported_media_type`).
        #[response(status = 415, content_type = "application/problem+json", example = json!({"type": "urn:leman:problem:unsupported_media_type", "title": "Unsupported Media Type", "status": 415, "detail": "Send the body as application/json.", "code": "unsupported_media_type"}))]
        MediaType(Problem),
        /// Wrong types, missing or unknown fields, or invalid values (`validation_failed`); or card numbers or security codes in any field (`card_data_not_accepted`).
        #[response(status = 422, content_type = "application/problem+json", example = json!({"type": "urn:leman:problem:validation_failed", "title": "Unprocessable Content", "status": 422, "detail": "The request is not valid.", "code": "validation_failed", "errors": [{"field": "/email", "code": "missing", "message": "missing field `email`"}]}))]
        Invalid(Problem),
    }

    /// Errors of routes that read query parameters.
    #[derive(IntoResponses)]
    pub enum Query {
        /// A query parameter has the wrong type or value (`validation_failed`).
        #[response(status = 422, content_type = "application/problem+json", example = json!({"type": "urn:leman:problem:validation_failed", "title": "Unprocessable Content", "status": 422, "detail": "The request is not valid.", "code": "validation_failed", "errors": [{"field": "limit", "code": "invalid", "message": "must be between 1 and 100"}]}))]
        Invalid(Problem),
    }

    /// The database cannot be reached.
    #[derive(IntoResponses)]
    pub enum Unavailable {
        /// The database is unreachable or its schema is not current (`not_ready`).
        #[response(status = 503, content_type = "application/problem+json", example = json!({"type": "urn:leman:problem:not_ready", "title": "Service Unavailable", "status": 503, "detail": "The database is not reachable.", "code": "not_ready"}))]
        NotReady(Problem),
    }

    /// No valid credentials on an authenticated route.
    #[derive(IntoResponses)]
    pub enum Unauthenticated {
        /// Missing, invalid or expired access token, or an ended session (`unauthenticated`).
        #[response(status = 401, content_type = "application/problem+json", headers(("WWW-Authenticate" = String, description = "`Bearer`")), example = json!({"type": "urn:leman:problem:unauthenticated", "title": "Unauthorized", "status": 401, "detail": "The session has ended; sign in again.", "code": "unauthenticated"}))]
        Unauthenticated(Problem),
    }

    /// Sensitive actions.
    #[derive(IntoResponses)]
    pub enum Reauthenticate {
        /// The session did not authenticate in the last 5 minutes, or the caller is a token (`reauthentication_required`).
        #[response(status = 403, content_type = "application/problem+json", example = json!({"type": "urn:leman:problem:reauthentication_required", "title": "Forbidden", "status": 403, "detail": "This action needs a recent authentication: POST /v1/auth/reauthenticate, then retry.", "code": "reauthentication_required"}))]
        Required(Problem),
    }

    /// Sign-in routes are rate limited per IP and per account.
    #[derive(IntoResponses)]
    pub enum RateLimited {
        /// Too many attempts (`rate_limited`); wait `Retry-After` seconds.
        #[response(status = 429, content_type = "application/problem+json", headers(("Retry-After" = u64, description = "Seconds to wait")), example = json!({"type": "urn:leman:problem:rate_limited", "title": "Too Many Requests", "status": 429, "detail": "Too many attempts; retry in 6 s.", "code": "rate_limited"}))]
        Limited(Problem),
    }

    /// Routes that take a single-use token from a mail link.
    #[derive(IntoResponses)]
    pub enum InvalidToken {
        /// The token is unknown, already used or expired (`invalid_token`).
        #[response(status = 400, content_type = "application/problem+json", example = json!({"type": "urn:leman:problem:invalid_token", "title": "Bad Request", "status": 400, "detail": "This link is invalid, already used or expired.", "code": "invalid_token"}))]
        Invalid(Problem),
    }

    /// The object does not exist or belongs to someone else.
    #[derive(IntoResponses)]
    pub enum NotFound {
        /// Nothing with this id is visible to the caller (`not_found`).
        #[response(status = 404, content_type = "application/problem+json", example = json!({"type": "urn:leman:problem:not_found", "title": "Not Found", "status": 404, "detail": "No such session.", "code": "not_found"}))]
        NotFound(Problem),
    }

    /// Routes whose JSON body carries a single-use token from a mail link.
    #[derive(IntoResponses)]
    pub enum TokenBody {
        /// The body is not well-formed JSON (`malformed_json`), or the token is unknown, already used or expired (`invalid_token`).
        #[response(status = 400, content_type = "application/problem+json", example = json!({"type": "urn:leman:problem:invalid_token", "title": "Bad Request", "status": 400, "detail": "This link is invalid, already used or expired.", "code": "invalid_token"}))]
        Invalid(Problem),
        /// The body is larger than 1 MiB (`payload_too_large`).
        #[response(status = 413, content_type = "application/problem+json", example = json!({"type": "urn:leman:problem:payload_too_large", "title": "Payload Too Large", "status": 413, "detail": "The request body exceeds 1048576 bytes.", "code": "payload_too_large"}))]
        TooLarge(Problem),
        /// The body is not `application/json` (`unsupported_media_type`).
        #[response(status = 415, content_type = "application/problem+json", example = json!({"type": "urn:leman:problem:unsupported_media_type", "title": "Unsupported Media Type", "status": 415, "detail": "Send the body as application/json.", "code": "unsupported_media_type"}))]
        MediaType(Problem),
        /// Wrong types, missing or unknown fields, or invalid values (`validation_failed`).
        #[response(status = 422, content_type = "application/problem+json", example = json!({"type": "urn:leman:problem:validation_failed", "title": "Unprocessable Content", "status": 422, "detail": "The request is not valid.", "code": "validation_failed", "errors": [{"field": "/token", "code": "missing", "message": "missing field `token`"}]}))]
        Unprocessable(Problem),
    }

    /// The password step of a login.
    #[derive(IntoResponses)]
    pub enum Login {
        /// Unknown email, wrong password or locked account: one answer for all (`invalid_credentials`).
        #[response(status = 401, content_type = "application/problem+json", example = json!({"type": "urn:leman:problem:invalid_credentials", "title": "Unauthorized", "status": 401, "detail": "The email address or the password is wrong.", "code": "invalid_credentials"}))]
        Invalid(Problem),
        /// Right password, but the email address was never confirmed (`email_not_verified`).
        #[response(status = 403, content_type = "application/problem+json", example = json!({"type": "urn:leman:problem:email_not_verified", "title": "Forbidden", "status": 403, "detail": "Confirm your email address first: follow the link we sent, or ask for a new one.", "code": "email_not_verified"}))]
        NotVerified(Problem),
    }

    /// Routes under `/v1/orgs/{org_id}` (see `x-leman-permission`).
    #[derive(IntoResponses)]
    pub enum OrgAccess {
        /// The member lacks the permission the route declares (`permission_denied`), or a token lacks the scope (`insufficient_scope`).
        #[response(status = 403, content_type = "application/problem+json", example = json!({"type": "urn:leman:problem:permission_denied", "title": "Forbidden", "status": 403, "detail": "This needs the `users` permission in this organisation.", "code": "permission_denied"}))]
        Denied(Problem),
        /// No such organisation, or the caller is not one of its members; or no such object in it (`not_found`).
        #[response(status = 404, content_type = "application/problem+json", example = json!({"type": "urn:leman:problem:not_found", "title": "Not Found", "status": 404, "detail": "No such organisation.", "code": "not_found"}))]
        NotFound(Problem),
    }

    /// Routes under `/v1/orgs/{org_id}` that give or take away roles and permissions.
    #[derive(IntoResponses)]
    pub enum OrgGrant {
        /// The member lacks the permission the route declares (`permission_denied`), may not grant this role or these permissions (`grant_not_allowed`), or a token lacks the scope (`insufficient_scope`).
        #[response(status = 403, content_type = "application/problem+json", example = json!({"type": "urn:leman:problem:grant_not_allowed", "title": "Forbidden", "status": 403, "detail": "Only admins and legal representatives manage admins.", "code": "grant_not_allowed"}))]
        Denied(Problem),
        /// No such organisation, or the caller is not one of its members; or no such object in it (`not_found`).
        #[response(status = 404, content_type = "application/problem+json", example = json!({"type": "urn:leman:problem:not_found", "title": "Not Found", "status": 404, "detail": "No such member.", "code": "not_found"}))]
        NotFound(Problem),
    }

    /// Sensitive routes under `/v1/orgs/{org_id}`.
    #[derive(IntoResponses)]
    pub enum OrgSensitive {
        /// The member lacks the permission the route declares (`permission_denied`), or the session did not authenticate in the last 5 minutes, or the caller is a token (`reauthentication_required`).
        #[response(status = 403, content_type = "application/problem+json", example = json!({"type": "urn:leman:problem:reauthentication_required", "title": "Forbidden", "status": 403, "detail": "This action needs a recent authentication: POST /v1/auth/reauthenticate, then retry.", "code": "reauthentication_required"}))]
        Denied(Problem),
        /// No such organisation, or the caller is not one of its members (`not_found`).
        #[response(status = 404, content_type = "application/problem+json", example = json!({"type": "urn:leman:problem:not_found", "title": "Not Found", "status": 404, "detail": "No such organisation.", "code": "not_found"}))]
        NotFound(Problem),
    }

    /// Routes that would leave an organisation without a legal representative.
    #[derive(IntoResponses)]
    pub enum LastLegalRepresentative {
        /// The member is the organisation's last legal representative: appoint another first (`last_legal_representative`).
        #[response(status = 409, content_type = "application/problem+json", example = json!({"type": "urn:leman:problem:last_legal_representative", "title": "Conflict", "status": 409, "detail": "This is the organisation's last legal representative: appoint another one first.", "code": "last_legal_representative"}))]
        Last(Problem),
    }

    /// Routes that move an organisation's money (or decide on it): a transaction that still loses
    /// a race after being run again three times is refused, changing nothing.
    #[derive(IntoResponses)]
    pub enum Busy {
        /// Concurrent changes to the same organisation got in the way even after retrying; nothing was changed: retry after `Retry-After` seconds (`database_busy`).
        #[response(status = 503, content_type = "application/problem+json", headers(("Retry-After" = u64, description = "Seconds to wait")), example = json!({"type": "urn:leman:problem:database_busy", "title": "Service Unavailable", "status": 503, "detail": "Concurrent changes to the same data got in the way; nothing was changed. Retry in a moment.", "code": "database_busy"}))]
        Busy(Problem),
    }

    /// Routes that charge money.
    #[derive(IntoResponses)]
    pub enum Charge {
        /// The payment was declined by the provider (`payment_declined`), or the prepaid balance does not cover it (`insufficient_prepaid_balance`); nothing was charged.
        #[response(status = 402, content_type = "application/problem+json", example = json!({"type": "urn:leman:problem:payment_declined", "title": "Payment Required", "status": 402, "detail": "The payment was declined (card_declined); nothing was charged. Try another method.", "code": "payment_declined"}))]
        Declined(Problem),
        /// The invoice is paid, cancelled or being paid (`invoice_not_open`, `payment_in_progress`); or this payment was given up before the provider answered and was charged after all, its amount going to the organisation's prepaid account (`payment_given_up`: read the prepaid account and the invoice, do not pay again by card).
        #[response(status = 409, content_type = "application/problem+json", example = json!({"type": "urn:leman:problem:invoice_not_open", "title": "Conflict", "status": 409, "detail": "This invoice is not open: it is paid, cancelled, or being paid.", "code": "invoice_not_open"}))]
        NotOpen(Problem),
        /// The payment provider did not answer (`payment_provider_unavailable`): the charge may have been made, so the payment stays pending until the provider is asked again (within minutes) and then settles or fails; do not pay again meanwhile; or concurrent changes to the same organisation got in the way even after retrying, nothing was changed: retry after `Retry-After` seconds (`database_busy`).
        #[response(status = 503, content_type = "application/problem+json", headers(("Retry-After" = u64, description = "Seconds to wait (with `database_busy`)")), example = json!({"type": "urn:leman:problem:payment_provider_unavailable", "title": "Service Unavailable", "status": 503, "detail": "the payment provider is unavailable: no answer from the provider; the charge may have been made: the payment stays pending until the provider is asked again (within minutes), and is then settled or failed. Do not pay again meanwhile: read the payment, invoice or prepaid account for its outcome.", "code": "payment_provider_unavailable"}))]
        Unavailable(Problem),
    }

    /// Routes open to personal and application tokens that hold a scope.
    #[derive(IntoResponses)]
    pub enum InsufficientScope {
        /// A personal or application token without the scope this route needs (`insufficient_scope`).
        #[response(status = 403, content_type = "application/problem+json", example = json!({"type": "urn:leman:problem:insufficient_scope", "title": "Forbidden", "status": 403, "detail": "This token lacks the `account:write` scope.", "code": "insufficient_scope"}))]
        Insufficient(Problem),
    }

    /// Routes whose JSON body carries a one-time code to check (two-factor enrolment).
    #[derive(IntoResponses)]
    pub enum CodeBody {
        /// The body is not well-formed JSON (`malformed_json`).
        #[response(status = 400, content_type = "application/problem+json", example = json!({"type": "urn:leman:problem:malformed_json", "title": "Bad Request", "status": 400, "detail": "The body is not valid JSON: EOF while parsing an object at line 1 column 1.", "code": "malformed_json"}))]
        Malformed(Problem),
        /// The body is larger than 1 MiB (`payload_too_large`).
        #[response(status = 413, content_type = "application/problem+json", example = json!({"type": "urn:leman:problem:payload_too_large", "title": "Payload Too Large", "status": 413, "detail": "The request body exceeds 1048576 bytes.", "code": "payload_too_large"}))]
        TooLarge(Problem),
        /// The body is not `application/json` (`unsupported_media_type`).
        #[response(status = 415, content_type = "application/problem+json", example = json!({"type": "urn:leman:problem:unsupported_media_type", "title": "Unsupported Media Type", "status": 415, "detail": "Send the body as application/json.", "code": "unsupported_media_type"}))]
        MediaType(Problem),
        /// Wrong types, missing or unknown fields (`validation_failed`), or a wrong, expired or already used code (`invalid_code`).
        #[response(status = 422, content_type = "application/problem+json", example = json!({"type": "urn:leman:problem:invalid_code", "title": "Unprocessable Content", "status": 422, "detail": "The code is wrong or expired: check the device's clock and type the code it shows now.", "code": "invalid_code"}))]
        Invalid(Problem),
    }
}
