use actix_web::{HttpResponse, put, web};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::context::Services;
use crate::domain::actor::Origin;
use crate::domain::scopes::Scope;
use crate::error::AppError;
use crate::error::responses::{Common, InsufficientScope, JsonBody, Unauthenticated};
use crate::http::Json;
use crate::services::security::{self, SettingsInput};
use crate::views::security::SecuritySettingsView;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"notify_on_login_success": true, "notify_on_login_failure": true, "lock_after_failed_logins": 5}))]
pub struct SecuritySettingsInput {
    /// Mail an alert after every successful sign-in.
    pub notify_on_login_success: bool,
    /// Mail an alert after every failed sign-in attempt.
    pub notify_on_login_failure: bool,
    /// Failed attempts in a row after which the account locks: 3 to 100.
    #[schema(minimum = 3, maximum = 100)]
    pub lock_after_failed_logins: i64,
}

/// Replace the caller's login alerts and lock threshold
///
/// Replace the login-alert choices and the lock threshold (all three fields are required).
/// Loosening them (turning an alert off, raising the threshold) is a sensitive action: it needs
/// an authentication in the last 5 minutes (`POST /v1/auth/reauthenticate`); tightening does not.
#[utoipa::path(
    operation_id = "update_security_settings",
    tag = "security",
    security(("bearer_jwt" = []), ("personal_token" = ["account:write"])),
    request_body = SecuritySettingsInput,
    responses(
        (status = 200, description = "The settings now in force", body = SecuritySettingsView),
        Unauthenticated,
        InsufficientScope,
        // After InsufficientScope: replaces its 403 with one naming both codes.
        (status = 403, description = "A token without `account:write` (`insufficient_scope`); or a change that loosens protection (an alert turned off, a higher lock threshold) from a session that did not authenticate in the last 5 minutes, or from a token (`reauthentication_required`)", body = crate::error::Problem, content_type = "application/problem+json",
         example = json!({"type": "urn:leman:problem:reauthentication_required", "title": "Forbidden", "status": 403, "detail": "This action needs a recent authentication: POST /v1/auth/reauthenticate, then retry.", "code": "reauthentication_required"})),
        JsonBody,
        Common,
    )
)]
#[put("/me/security-settings")]
pub async fn update_security_settings(
    caller: Caller,
    services: web::Data<Services>,
    meta: Origin,
    body: Json<SecuritySettingsInput>,
) -> Result<HttpResponse, AppError> {
    caller.require_scope(Scope::AccountWrite)?;
    let b = body.0;
    let input = SettingsInput {
        notify_on_login_success: b.notify_on_login_success,
        notify_on_login_failure: b.notify_on_login_failure,
        lock_after_failed_logins: b.lock_after_failed_logins,
    };
    let settings = security::replace_settings(&services.pool, meta, caller, input).await?;
    Ok(HttpResponse::Ok().json(SecuritySettingsView::from(settings)))
}
