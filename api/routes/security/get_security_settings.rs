use actix_web::{HttpResponse, get, web};

use crate::auth::Caller;
use crate::context::Services;
use crate::domain::scopes::Scope;
use crate::error::AppError;
use crate::error::responses::{Common, InsufficientScope, Unauthenticated};
use crate::services::security;
use crate::views::security::SecuritySettingsView;

/// Get the caller's login alerts and lock threshold
///
/// Login alerts and the lock threshold of the caller's account.
#[utoipa::path(
    operation_id = "get_security_settings",
    tag = "security",
    security(("bearer_jwt" = []), ("personal_token" = ["account:read"])),
    responses(
        (status = 200, description = "The caller's security settings", body = SecuritySettingsView),
        Unauthenticated,
        InsufficientScope,
        Common,
    )
)]
#[get("/me/security-settings")]
pub async fn get_security_settings(
    caller: Caller,
    services: web::Data<Services>,
) -> Result<HttpResponse, AppError> {
    caller.require_scope(Scope::AccountRead)?;
    let settings = security::settings(&services.pool, caller).await?;
    Ok(HttpResponse::Ok().json(SecuritySettingsView::from(settings)))
}
