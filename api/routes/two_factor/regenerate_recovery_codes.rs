use actix_web::{HttpResponse, post, web};

use crate::auth::Caller;
use crate::context::Services;
use crate::domain::actor::Origin;
use crate::error::AppError;
use crate::error::responses::{Common, Reauthenticate, Unauthenticated};
use crate::services::two_factor;
use crate::views::two_factor::RecoveryCodes;

/// Replace the recovery codes with ten new ones
///
/// Replace every recovery code by ten new ones, shown this once; the old ones stop working. A
/// sensitive action: it needs an authentication within the last 5 minutes.
#[utoipa::path(
    operation_id = "regenerate_recovery_codes",
    tag = "two_factor",
    security(("bearer_jwt" = [])),
    responses(
        (status = 200, description = "The new recovery codes, shown once", body = RecoveryCodes, headers(("Cache-Control" = String, description = "`no-store`: the secret is shown once, kept by no cache, and an `Idempotency-Key` never replays it"))),
        Unauthenticated,
        Reauthenticate,
        (status = 409, description = "Two-factor authentication is not on (`two_factor_not_enabled`)", body = crate::error::Problem, content_type = "application/problem+json",
         example = json!({"type": "urn:leman:problem:two_factor_not_enabled", "title": "Conflict", "status": 409, "detail": "Two-factor authentication is not on.", "code": "two_factor_not_enabled"})),
        Common,
    )
)]
#[post("/me/two-factor/recovery-codes")]
pub async fn regenerate_recovery_codes(
    caller: Caller,
    services: web::Data<Services>,
    meta: Origin,
) -> Result<HttpResponse, AppError> {
    let codes = two_factor::regenerate_recovery_codes(&services, meta, caller).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(RecoveryCodes {
            recovery_codes: codes,
        }))
}
