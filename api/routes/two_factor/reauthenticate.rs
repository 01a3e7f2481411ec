use actix_web::{HttpResponse, post, web};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::auth::ratelimit::IpRateLimited;
use crate::context::Services;
use crate::domain::actor::Origin;
use crate::error::AppError;
use crate::error::responses::{Common, JsonBody, RateLimited};
use crate::http::Json;
use crate::services::two_factor;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"password": "correct horse battery staple", "code": "492039"}))]
pub struct ReauthenticateInput {
    pub password: String,
    /// The authenticator app's code: required when two-factor authentication is on.
    pub code: Option<String>,
}

/// Confirm the caller's identity again for sensitive actions
///
/// Confirm who is in this session again (password, and the 2FA code when it is on): sensitive
/// actions (turning 2FA off, new recovery codes, …) are then allowed for 5 minutes. Wrong
/// answers count towards the account's lock threshold.
#[utoipa::path(
    operation_id = "reauthenticate",
    tag = "auth",
    security(("bearer_jwt" = [])),
    request_body = ReauthenticateInput,
    responses(
        (status = 204, description = "Re-authenticated: sensitive actions are allowed for 5 minutes"),
        (status = 401, description = "Missing, invalid or expired access token, or an ended session (`unauthenticated`); or a wrong password or code, or a locked account (`invalid_credentials`)", body = crate::error::Problem, content_type = "application/problem+json",
         example = json!({"type": "urn:leman:problem:invalid_credentials", "title": "Unauthorized", "status": 401, "detail": "The email address or the password is wrong.", "code": "invalid_credentials"})),
        (status = 403, description = "Called with a personal or application token, which has no session (`session_required`)", body = crate::error::Problem, content_type = "application/problem+json",
         example = json!({"type": "urn:leman:problem:session_required", "title": "Forbidden", "status": 403, "detail": "Tokens cannot re-authenticate; sensitive actions need a person in a session.", "code": "session_required"})),
        JsonBody,
        RateLimited,
        Common,
    )
)]
#[post("/auth/reauthenticate")]
pub async fn reauthenticate(
    _limited: IpRateLimited,
    caller: Caller,
    services: web::Data<Services>,
    meta: Origin,
    body: Json<ReauthenticateInput>,
) -> Result<HttpResponse, AppError> {
    let ReauthenticateInput { password, code } = body.0;
    two_factor::reauthenticate(&services, meta, caller, password, code).await?;
    Ok(HttpResponse::NoContent().finish())
}
