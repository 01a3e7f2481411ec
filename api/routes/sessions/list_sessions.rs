use actix_web::{HttpResponse, get, web};

use crate::auth::Caller;
use crate::context::Services;
use crate::domain::scopes::Scope;
use crate::error::AppError;
use crate::error::responses::{Common, InsufficientScope, Unauthenticated};
use crate::services::connection_log;
use crate::views::sessions::{SessionList, SessionView};

/// List the caller's signed-in devices (sessions)
///
/// The connection log: every device signed in to the account (its active sessions), newest
/// first, with browser, system, IP address, when it signed in and when it was last seen. The
/// session making the request is marked `current` (a token has none).
#[utoipa::path(
    operation_id = "list_sessions",
    tag = "security",
    security(("bearer_jwt" = []), ("personal_token" = ["account:read"])),
    responses(
        (status = 200, description = "The caller's active sessions, newest first", body = SessionList),
        Unauthenticated,
        InsufficientScope,
        Common,
    )
)]
#[get("/me/sessions")]
pub async fn list_sessions(
    caller: Caller,
    services: web::Data<Services>,
) -> Result<HttpResponse, AppError> {
    caller.require_scope(Scope::AccountRead)?;
    let rows = connection_log::list(&services.pool, &caller).await?;
    let current = caller.session_id();
    let list = SessionList {
        data: rows.iter().map(|s| SessionView::new(s, current)).collect(),
    };
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(list))
}
