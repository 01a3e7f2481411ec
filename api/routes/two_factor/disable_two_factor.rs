use actix_web::{HttpResponse, delete, web};

use crate::auth::Caller;
use crate::context::Services;
use crate::domain::actor::Origin;
use crate::error::AppError;
use crate::error::responses::{Common, Reauthenticate, Unauthenticated};
use crate::services::two_factor;

/// Turn two-factor authentication off
///
/// Turn two-factor authentication off: the secret and the recovery codes are deleted and the
/// user is told by mail. A sensitive action: it needs an authentication within the last 5 minutes.
/// Refused while an organisation the caller belongs to requires 2FA.
#[utoipa::path(
    operation_id = "disable_two_factor",
    tag = "two_factor",
    security(("bearer_jwt" = [])),
    responses(
        (status = 204, description = "Two-factor authentication is off"),
        Unauthenticated,
        Reauthenticate,
        (status = 409, description = "Two-factor authentication is not on (`two_factor_not_enabled`), or an organisation of the caller requires it (`two_factor_required_by_organization`)", body = crate::error::Problem, content_type = "application/problem+json",
         example = json!({"type": "urn:leman:problem:two_factor_not_enabled", "title": "Conflict", "status": 409, "detail": "Two-factor authentication is not on.", "code": "two_factor_not_enabled"})),
        Common,
    )
)]
#[delete("/me/two-factor")]
pub async fn disable_two_factor(
    caller: Caller,
    services: web::Data<Services>,
    meta: Origin,
) -> Result<HttpResponse, AppError> {
    two_factor::disable(&services, meta, caller).await?;
    Ok(HttpResponse::NoContent().finish())
}
