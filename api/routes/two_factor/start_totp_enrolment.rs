use actix_web::{HttpResponse, post, web};

use crate::auth::Caller;
use crate::context::Services;
use crate::domain::actor::Origin;
use crate::error::AppError;
use crate::error::responses::{Common, Unauthenticated};
use crate::services::two_factor;
use crate::views::two_factor::TotpEnrolment;

/// Start setting up two-factor authentication (TOTP)
///
/// Start setting up two-factor authentication with an authenticator app (TOTP): returns a new
/// secret, its `otpauth://` URI and a QR code. Two-factor authentication stays off until
/// `POST /v1/me/two-factor/totp/confirm` with a code; starting again replaces the pending secret.
/// Only a person in a session that authenticated in the last 5 minutes may do this (a stolen
/// session must not bind the account to another device), not a token.
#[utoipa::path(
    operation_id = "start_totp_enrolment",
    tag = "two_factor",
    security(("bearer_jwt" = [])),
    responses(
        (status = 200, description = "The pending secret, shown once", body = TotpEnrolment, headers(("Cache-Control" = String, description = "`no-store`: the secret is shown once, kept by no cache, and an `Idempotency-Key` never replays it"))),
        Unauthenticated,
        (status = 403, description = "Called with a personal or application token (`session_required`), or from a session that did not authenticate in the last 5 minutes (`reauthentication_required`)", body = crate::error::Problem, content_type = "application/problem+json",
         example = json!({"type": "urn:leman:problem:session_required", "title": "Forbidden", "status": 403, "detail": "Two-factor authentication is set up by a person in a session, not with a token.", "code": "session_required"})),
        (status = 409, description = "Two-factor authentication is already on (`two_factor_already_enabled`)", body = crate::error::Problem, content_type = "application/problem+json",
         example = json!({"type": "urn:leman:problem:two_factor_already_enabled", "title": "Conflict", "status": 409, "detail": "Two-factor authentication is already on; turn it off first to enrol another device.", "code": "two_factor_already_enabled"})),
        Common,
    )
)]
#[post("/me/two-factor/totp")]
pub async fn start_totp_enrolment(
    caller: Caller,
    services: web::Data<Services>,
    meta: Origin,
) -> Result<HttpResponse, AppError> {
    let enrolment = two_factor::start_enrolment(&services, meta, caller).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(TotpEnrolment::from(enrolment)))
}
