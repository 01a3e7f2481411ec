use actix_web::{HttpResponse, delete, web};

use crate::auth::Caller;
use crate::context::Services;
use crate::domain::actor::Origin;
use crate::domain::ids::SessionId;
use crate::domain::scopes::Scope;
use crate::error::AppError;
use crate::error::responses::{Common, InsufficientScope, NotFound, Unauthenticated};
use crate::services::connection_log;

/// End one of the caller's sessions
///
/// End one of the caller's sessions (the current one included): its access and refresh tokens
/// stop working at once.
#[utoipa::path(
    operation_id = "end_session",
    tag = "security",
    security(("bearer_jwt" = []), ("personal_token" = ["account:write"])),
    params(("session_id" = String, Path, description = "A session id from the connection log", example = "ses_01936d7a6b2f7c3e9d4a5b6c7d8e9f00")),
    responses(
        (status = 204, description = "The session has ended"),
        NotFound,
        Unauthenticated,
        InsufficientScope,
        Common,
    )
)]
#[delete("/me/sessions/{session_id}")]
pub async fn end_session(
    caller: Caller,
    services: web::Data<Services>,
    meta: Origin,
    session_id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    caller.require_scope(Scope::AccountWrite)?;
    let sid = SessionId::parse(&session_id)?;
    connection_log::end_one(&services.pool, meta, caller, sid).await?;
    Ok(HttpResponse::NoContent().finish())
}
