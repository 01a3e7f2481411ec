use actix_web::{HttpResponse, delete, web};

use crate::auth::Caller;
use crate::context::Services;
use crate::domain::actor::Origin;
use crate::domain::scopes::Scope;
use crate::error::AppError;
use crate::error::responses::{Common, InsufficientScope, Unauthenticated};
use crate::services::connection_log;

/// Sign out every other device
///
/// Sign out every other device: ends all the caller's sessions but the current one (called with
/// a personal or application token, which has no session, it ends them all).
#[utoipa::path(
    operation_id = "end_other_sessions",
    tag = "security",
    security(("bearer_jwt" = []), ("personal_token" = ["account:write"])),
    responses(
        (status = 204, description = "The other sessions have ended"),
        Unauthenticated,
        InsufficientScope,
        Common,
    )
)]
#[delete("/me/sessions")]
pub async fn end_other_sessions(
    caller: Caller,
    services: web::Data<Services>,
    meta: Origin,
) -> Result<HttpResponse, AppError> {
    caller.require_scope(Scope::AccountWrite)?;
    connection_log::end_others(&services.pool, meta, caller).await?;
    Ok(HttpResponse::NoContent().finish())
}
