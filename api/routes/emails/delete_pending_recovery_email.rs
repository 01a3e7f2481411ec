use actix_web::{HttpResponse, delete, web};

use crate::auth::Caller;
use crate::context::Services;
use crate::domain::actor::Origin;
use crate::domain::scopes::Scope;
use crate::error::AppError;
use crate::error::responses::{Common, InsufficientScope, Unauthenticated};
use crate::services::emails;

/// Withdraw the pending recovery address
///
/// Withdraw the pending recovery address (R6): its confirmation links stop working; a confirmed
/// recovery address, if any, stays.
#[utoipa::path(
    operation_id = "delete_pending_recovery_email",
    tag = "accounts",
    security(("bearer_jwt" = []), ("personal_token" = ["account:write"])),
    responses(
        (status = 204, description = "The pending request is withdrawn"),
        (status = 404, description = "No recovery address is waiting for confirmation (`not_found`)", body = crate::error::Problem, content_type = "application/problem+json",
         example = json!({"type": "urn:leman:problem:not_found", "title": "Not Found", "status": 404, "detail": "No recovery address is waiting for confirmation.", "code": "not_found"})),
        Unauthenticated,
        InsufficientScope,
        Common,
    )
)]
#[delete("/me/recovery-email/pending")]
pub async fn delete_pending_recovery_email(
    caller: Caller,
    services: web::Data<Services>,
    meta: Origin,
) -> Result<HttpResponse, AppError> {
    caller.require_scope(Scope::AccountWrite)?;
    emails::withdraw_recovery_change(&services, meta, caller).await?;
    Ok(HttpResponse::NoContent().finish())
}
