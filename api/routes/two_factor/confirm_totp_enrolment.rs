use actix_web::{HttpResponse, post, web};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::context::Services;
use crate::domain::actor::Origin;
use crate::error::AppError;
use crate::error::responses::{CodeBody, Common, Unauthenticated};
use crate::http::Json;
use crate::services::two_factor;
use crate::views::two_factor::RecoveryCodes;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"code": "492039"}))]
pub struct ConfirmTotpInput {
    /// The 6-digit code the authenticator app shows now.
    pub code: String,
}

/// Turn two-factor authentication on with a code from the pending secret
///
/// Returns ten recovery codes, shown this once; the user is told by mail.
#[utoipa::path(
    operation_id = "confirm_totp_enrolment",
    tag = "two_factor",
    security(("bearer_jwt" = [])),
    request_body = ConfirmTotpInput,
    responses(
        (status = 200, description = "Two-factor authentication is on; the recovery codes, shown once", body = RecoveryCodes, headers(("Cache-Control" = String, description = "`no-store`: the secret is shown once, kept by no cache, and an `Idempotency-Key` never replays it"))),
        Unauthenticated,
        (status = 403, description = "Called with a personal or application token (`session_required`)", body = crate::error::Problem, content_type = "application/problem+json",
         example = json!({"type": "urn:leman:problem:session_required", "title": "Forbidden", "status": 403, "detail": "Two-factor authentication is set up by a person in a session, not with a token.", "code": "session_required"})),
        (status = 409, description = "Two-factor authentication is already on (`two_factor_already_enabled`), or no enrolment was started (`two_factor_enrolment_not_started`)", body = crate::error::Problem, content_type = "application/problem+json",
         example = json!({"type": "urn:leman:problem:two_factor_enrolment_not_started", "title": "Conflict", "status": 409, "detail": "No enrolment is pending: POST /v1/me/two-factor/totp first.", "code": "two_factor_enrolment_not_started"})),
        CodeBody,
        Common,
    )
)]
#[post("/me/two-factor/totp/confirm")]
pub async fn confirm_totp_enrolment(
    caller: Caller,
    services: web::Data<Services>,
    meta: Origin,
    body: Json<ConfirmTotpInput>,
) -> Result<HttpResponse, AppError> {
    let codes = two_factor::confirm_enrolment(&services, meta, caller, body.0.code).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(RecoveryCodes {
            recovery_codes: codes,
        }))
}
