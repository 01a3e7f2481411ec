use crate::error::Status;
use actix_web::{HttpResponse, post, web};

use crate::auth::Caller;
use crate::context::Services;
use crate::db;
use crate::domain::account_states::SessionEndReason;
use crate::domain::actor::Origin;
use crate::error::AppError;
use crate::error::responses::{Common, Unauthenticated};
use crate::services::sessions;

/// End the current session
///
/// End the current session: its access and refresh tokens stop working at once.
#[utoipa::path(
    operation_id = "logout",
    tag = "auth",
    security(("bearer_jwt" = [])),
    responses(
        (status = 204, description = "The session has ended"),
        (status = 403, description = "Called with a personal or application token, which has no session (`session_required`)", body = crate::error::Problem, content_type = "application/problem+json",
         example = json!({"type": "urn:leman:problem:session_required", "title": "Forbidden", "status": 403, "detail": "Tokens have no session to end; revoke the token instead.", "code": "session_required"})),
        Unauthenticated,
        Common,
    )
)]
#[post("/auth/logout")]
pub async fn logout(
    caller: Caller,
    services: web::Data<Services>,
    meta: Origin,
) -> Result<HttpResponse, AppError> {
    let sid = caller
        .session_id()
        .ok_or_else(|| {
            AppError::new(
                Status::Forbidden,
                "session_required",
                "Tokens have no session to end; revoke the token instead.",
            )
        })?
        .to_string();
    db::run(&services.pool, move |conn| {
        db::write(conn, |c| {
            sessions::end_session(c, &meta, &caller.user_id, &sid, SessionEndReason::Logout)
        })
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
