use actix_web::{HttpResponse, post, web};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::auth::ratelimit::IpRateLimited;
use crate::error::ApiError;
use crate::error::responses::{Common, RateLimited, TokenBody};
use crate::http::Json;
use crate::http::meta::RequestMeta;
use crate::services::accounts;
use crate::startup::Services;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"token": "q0Zp7m3Vt2kX9sLr4Wc8yHb1NfJd6Ga5Ue0Ao3Ri7Ks"}))]
pub struct TokenInput {
    /// The `token` query parameter of the link in the mail.
    pub token: String,
}

/// Confirm the email address of a new account with the token of the mailed link (single use,
/// valid 24 hours).
#[utoipa::path(
    operation_id = "verify_email",
    tag = "accounts",
    request_body = TokenInput,
    responses(
        (status = 204, description = "The address is confirmed; the account can sign in"),
        TokenBody,
        RateLimited,
        Common,
    )
)]
#[post("/users/verify-email")]
pub async fn verify_email(
    _limited: IpRateLimited,
    services: web::Data<Services>,
    meta: RequestMeta,
    body: Json<TokenInput>,
) -> Result<HttpResponse, ApiError> {
    accounts::verify_email(&services.pool, meta, body.0.token).await?;
    Ok(HttpResponse::NoContent().finish())
}
