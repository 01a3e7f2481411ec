use actix_web::{HttpResponse, put, web};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::context::Services;
use crate::domain::actor::Origin;
use crate::error::AppError;
use crate::error::responses::{Common, JsonBody, RateLimited, Unauthenticated};
use crate::http::Json;
use crate::services::passwords;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"current_password": "correct horse battery staple", "new_password": "tangerine orbit quietly sailing", "revoke_tokens": true}))]
pub struct ChangePassword {
    /// The password in use now. A wrong one counts as a failed sign-in attempt.
    pub current_password: String,
    /// 8 to 128 characters, not easy to guess, different from the current one.
    pub new_password: String,
    /// Also revoke every personal and application token of the account (default false), for when
    /// someone else may have known the password; the mail about the change names them.
    #[serde(default)]
    pub revoke_tokens: bool,
}

/// Change the caller's password
///
/// The caller's other sessions end at once (this one goes on); pending reset links stop working,
/// and so do sign-ins waiting for their second factor and login or recovery address changes not yet
/// confirmed; the login address is told by mail. With `"revoke_tokens": true` every personal and
/// application token of the account is revoked too (they stop working at once; the mail lists
/// them). The second factor stays: the mail points to its settings, to review it. Needs a session:
/// tokens cannot change a password.  Field codes of a 422: `wrong_password` on `/current_password`
/// (it counts as a failed sign-in attempt, towards the lock), `password_too_short`,
/// `password_too_long`, `password_too_weak` or `same_as_current` on `/new_password`, and
/// `invalid_characters` on either (a NUL character).
#[utoipa::path(
    operation_id = "change_password",
    tag = "accounts",
    security(("bearer_jwt" = [])),
    request_body = ChangePassword,
    responses(
        (status = 204, description = "The password is changed; the other sessions have ended, and with `revoke_tokens` every personal and application token is revoked"),
        (status = 403, description = "Called with a personal or application token (`session_required`), or the account is locked after too many failed attempts (`account_locked`)", body = crate::error::Problem, content_type = "application/problem+json", examples(
            ("session_required" = (summary = "A token, not a session", value = json!({"type": "urn:leman:problem:session_required", "title": "Forbidden", "status": 403, "detail": "Only a person signed in with a session can do this; tokens cannot.", "code": "session_required"}))),
            ("account_locked" = (summary = "The account is locked", value = json!({"type": "urn:leman:problem:account_locked", "title": "Forbidden", "status": 403, "detail": "The account is locked after too many failed attempts: unlock it with the link we mailed, or reset the password.", "code": "account_locked"}))),
        )),
        Unauthenticated,
        JsonBody,
        RateLimited,
        Common,
    )
)]
#[put("/me/password")]
pub async fn change_password(
    caller: Caller,
    services: web::Data<Services>,
    meta: Origin,
    body: Json<ChangePassword>,
) -> Result<HttpResponse, AppError> {
    let ChangePassword {
        current_password,
        new_password,
        revoke_tokens,
    } = body.0;
    passwords::change(
        &services,
        meta,
        caller,
        current_password,
        new_password,
        revoke_tokens,
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
