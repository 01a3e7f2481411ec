use actix_web::{HttpResponse, post, web};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::auth::ratelimit::IpRateLimited;
use crate::context::Services;
use crate::domain::actor::Origin;
use crate::error::AppError;
use crate::error::responses::{Common, JsonBody, RateLimited};
use crate::http::Json;
use crate::services::passwords;
use crate::views::Accepted;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "zoe.muller@example.ch"}))]
pub struct PasswordResetRequest {
    /// The account's login address.
    pub email: String,
}

/// Mail a password reset link
///
/// Forgotten password: mail a single-use reset link (valid 1 hour; a newer one replaces it) to
/// the account's confirmed recovery address, or to its login address when it has none. Always
/// 202 with the same body, after the same work (the request is queued and the mail sent in the
/// background): the answer does not tell whether the address has an account. One address gets
/// at most 3 reset mails an hour; further requests are answered the same and send nothing.
#[utoipa::path(
    operation_id = "request_password_reset",
    tag = "auth",
    request_body = PasswordResetRequest,
    responses(
        (status = 202, description = "Accepted: a reset link is on its way if an account signs in with this address", body = Accepted),
        JsonBody,
        RateLimited,
        Common,
    )
)]
#[post("/auth/password-reset/request")]
pub async fn request_password_reset(
    _limited: IpRateLimited,
    services: web::Data<Services>,
    meta: Origin,
    body: Json<PasswordResetRequest>,
) -> Result<HttpResponse, AppError> {
    passwords::request_reset(&services, meta, body.0.email).await?;
    Ok(HttpResponse::Accepted().json(Accepted::mail_on_its_way()))
}
