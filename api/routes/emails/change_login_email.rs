use actix_web::{HttpResponse, put, web};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::context::Services;
use crate::domain::actor::Origin;
use crate::error::AppError;
use crate::error::responses::{Common, JsonBody, RateLimited, Unauthenticated};
use crate::http::Json;
use crate::services::emails;
use crate::views::Accepted;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"new_email": "zoe@muller.example", "new_email_confirmation": "zoe@muller.example", "password": "correct horse battery staple"}))]
pub struct ChangeLoginEmail {
    /// The address to sign in with from now on; a confirmation link is mailed to it.
    pub new_email: String,
    /// The same address, typed a second time.
    pub new_email_confirmation: String,
    /// The account's password. A wrong one counts as a failed sign-in attempt.
    pub password: String,
}

/// Change the login ID (R4)
///
/// The new address is typed twice, must differ from the current login and from the recovery
/// address, and must not be another account's login (409 `email_taken`: only a caller who gave the
/// right password learns it, so this does not open enumeration to the public); the password is
/// asked. A confirmation link (valid 24 hours, single use) goes to the new address: the change
/// applies when it is followed, and the old address is told. Needs a session: tokens cannot change
/// the login.  Field codes of a 422: `invalid_email`, `same_as_current` or `same_as_recovery_email`
/// on `/new_email`; `mismatch` on `/new_email_confirmation`; `wrong_password` on `/password`.
#[utoipa::path(
    operation_id = "change_login_email",
    tag = "accounts",
    security(("bearer_jwt" = [])),
    request_body = ChangeLoginEmail,
    responses(
        (status = 202, description = "Accepted: a confirmation link is on its way to the new address", body = Accepted),
        (status = 403, description = "Called with a personal or application token (`session_required`), or the account is locked after too many failed attempts (`account_locked`)", body = crate::error::Problem, content_type = "application/problem+json", examples(
            ("session_required" = (summary = "A token, not a session", value = json!({"type": "urn:leman:problem:session_required", "title": "Forbidden", "status": 403, "detail": "Only a person signed in with a session can do this; tokens cannot.", "code": "session_required"}))),
            ("account_locked" = (summary = "The account is locked", value = json!({"type": "urn:leman:problem:account_locked", "title": "Forbidden", "status": 403, "detail": "The account is locked after too many failed attempts: unlock it with the link we mailed, or reset the password.", "code": "account_locked"}))),
        )),
        (status = 409, description = "Another account signs in with this address (`email_taken`)", body = crate::error::Problem, content_type = "application/problem+json",
         example = json!({"type": "urn:leman:problem:email_taken", "title": "Conflict", "status": 409, "detail": "Another account signs in with this address; choose another one.", "code": "email_taken"})),
        Unauthenticated,
        JsonBody,
        RateLimited,
        Common,
    )
)]
#[put("/me/login-email")]
pub async fn change_login_email(
    caller: Caller,
    services: web::Data<Services>,
    meta: Origin,
    body: Json<ChangeLoginEmail>,
) -> Result<HttpResponse, AppError> {
    let ChangeLoginEmail {
        new_email,
        new_email_confirmation,
        password,
    } = body.0;
    emails::request_login_change(
        &services,
        meta,
        caller,
        new_email,
        new_email_confirmation,
        password,
    )
    .await?;
    Ok(HttpResponse::Accepted().json(Accepted::mail_on_its_way()))
}
