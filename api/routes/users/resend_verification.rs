use actix_web::{HttpResponse, post, web};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::auth::ratelimit::IpRateLimited;
use crate::context::Services;
use crate::domain::actor::Origin;
use crate::error::AppError;
use crate::error::responses::{Common, JsonBody, RateLimited};
use crate::http::Json;
use crate::services::accounts;
use crate::views::Accepted;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "zoe.muller@example.ch"}))]
pub struct EmailInput {
    pub email: String,
}

/// Send a new email verification link
///
/// Send a new verification link (the previous one stops working) for the newest sign-up attempt
/// of the address. Always 202: the answer does not tell whether the address has an account
/// waiting for confirmation. An address gets at most 3 verification mails an hour, sign-ups
/// included; further requests are answered the same and send nothing.
#[utoipa::path(
    operation_id = "resend_verification",
    tag = "accounts",
    request_body = EmailInput,
    responses(
        (status = 202, description = "Accepted: a mail is on its way if an unconfirmed account uses this address", body = Accepted),
        JsonBody,
        RateLimited,
        Common,
    )
)]
#[post("/users/verify-email/resend")]
pub async fn resend_verification(
    _limited: IpRateLimited,
    services: web::Data<Services>,
    meta: Origin,
    body: Json<EmailInput>,
) -> Result<HttpResponse, AppError> {
    accounts::resend_verification(&services.pool, &services.config, meta, body.0.email).await?;
    Ok(HttpResponse::Accepted().json(Accepted::mail_on_its_way()))
}
