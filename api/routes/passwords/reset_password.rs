use actix_web::{HttpResponse, post, web};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::auth::ratelimit::IpRateLimited;
use crate::context::Services;
use crate::domain::actor::Origin;
use crate::error::AppError;
use crate::error::responses::{Common, RateLimited, TokenBody};
use crate::http::Json;
use crate::services::passwords;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"token": "q0Zp7m3Vt2kX9sLr4Wc8yHb1NfJd6Ga5Ue0Ao3Ri7Ks", "new_password": "tangerine orbit quietly sailing"}))]
pub struct ResetPassword {
    /// The `token` query parameter of the link in the reset mail.
    pub token: String,
    /// 8 to 128 characters, not easy to guess.
    pub new_password: String,
}

/// Set a new password with the token of a reset link (single use, valid 1 hour)
///
/// Every session of the account ends, every personal and application token is revoked (the mail to
/// the login address names them and points to the second factor's settings, to review it; the
/// second factor and its recovery codes stay), a lock from failed attempts is lifted, and sign-ins
/// waiting for their second factor and login or recovery address changes not yet confirmed are
/// withdrawn (whoever knew the old password may have asked for them); nobody is signed in: sign in
/// with the new password next (the second factor is still asked when it is on). A password the
/// policy refuses (422 `password_too_short`, `password_too_long` or `password_too_weak` on
/// `/new_password`) leaves the link usable.
#[utoipa::path(
    operation_id = "reset_password",
    tag = "auth",
    request_body = ResetPassword,
    responses(
        (status = 204, description = "The password is set; every session has ended and every personal and application token is revoked"),
        TokenBody,
        RateLimited,
        Common,
    )
)]
#[post("/auth/password-reset")]
pub async fn reset_password(
    _limited: IpRateLimited,
    services: web::Data<Services>,
    meta: Origin,
    body: Json<ResetPassword>,
) -> Result<HttpResponse, AppError> {
    let ResetPassword {
        token,
        new_password,
    } = body.0;
    passwords::reset(&services, meta, token, new_password).await?;
    Ok(HttpResponse::NoContent().finish())
}
