use actix_web::{HttpResponse, post, web};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::auth::ratelimit::IpRateLimited;
use crate::context::Services;
use crate::domain::actor::Origin;
use crate::error::AppError;
use crate::error::responses::{Common, RateLimited, TokenBody};
use crate::http::Json;
use crate::services::security;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"token": "q0Zp7m3Vt2kX9sLr4Wc8yHb1NfJd6Ga5Ue0Ao3Ri7Ks"}))]
pub struct UnlockInput {
    /// The `token` query parameter of the unlock link in the mail.
    pub token: String,
}

/// Unlock a locked account with a mailed token
///
/// Unlock a locked account with the token of the mailed link (single use, valid 1 hour). The
/// failed-attempt count starts again; signing in is then possible with the right password.
#[utoipa::path(
    operation_id = "unlock_account",
    tag = "auth",
    request_body = UnlockInput,
    responses(
        (status = 204, description = "The account is unlocked"),
        TokenBody,
        RateLimited,
        Common,
    )
)]
#[post("/auth/unlock")]
pub async fn unlock_account(
    _limited: IpRateLimited,
    services: web::Data<Services>,
    meta: Origin,
    body: Json<UnlockInput>,
) -> Result<HttpResponse, AppError> {
    security::unlock(&services.pool, meta, body.0.token).await?;
    Ok(HttpResponse::NoContent().finish())
}
