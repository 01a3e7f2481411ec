use actix_web::{HttpResponse, post, web};

use crate::auth::Caller;
use crate::context::Services;
use crate::domain::actor::Origin;
use crate::domain::scopes::Scope;
use crate::error::AppError;
use crate::error::responses::{Common, InsufficientScope, Unauthenticated};
use crate::services::emails;
use crate::views::Accepted;

/// Send the confirmation link for the pending recovery address again (R6)
///
/// The new link replaces the previous one, which stops working.
#[utoipa::path(
    operation_id = "resend_recovery_email",
    tag = "accounts",
    security(("bearer_jwt" = []), ("personal_token" = ["account:write"])),
    responses(
        (status = 202, description = "Accepted: a new confirmation link is on its way to the pending address", body = Accepted),
        (status = 409, description = "No recovery address is waiting for confirmation (`no_pending_recovery_email`)", body = crate::error::Problem, content_type = "application/problem+json",
         example = json!({"type": "urn:leman:problem:no_pending_recovery_email", "title": "Conflict", "status": 409, "detail": "No recovery address is waiting for confirmation.", "code": "no_pending_recovery_email"})),
        Unauthenticated,
        InsufficientScope,
        Common,
    )
)]
#[post("/me/recovery-email/resend")]
pub async fn resend_recovery_email(
    caller: Caller,
    services: web::Data<Services>,
    meta: Origin,
) -> Result<HttpResponse, AppError> {
    caller.require_scope(Scope::AccountWrite)?;
    emails::resend_recovery_confirmation(&services, meta, caller).await?;
    Ok(HttpResponse::Accepted().json(Accepted::mail_on_its_way()))
}
