use actix_web::http::StatusCode;
use actix_web::{HttpResponse, post, web};

use crate::auth::Caller;
use crate::db;
use crate::error::ApiError;
use crate::error::responses::{Common, Unauthenticated};
use crate::http::meta::RequestMeta;
use crate::services::sessions;
use crate::startup::Services;

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
    meta: RequestMeta,
) -> Result<HttpResponse, ApiError> {
    let sid = caller
        .session_id()
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::FORBIDDEN,
                "session_required",
                "Tokens have no session to end; revoke the token instead.",
            )
        })?
        .to_string();
    db::run(&services.pool, move |conn| {
        db::write(conn, |c| {
            sessions::end_session(c, &meta, &caller.user_id, &sid, "logout")
        })
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
