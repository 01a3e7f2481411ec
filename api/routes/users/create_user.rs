use actix_web::{HttpResponse, post, web};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::auth::ratelimit::IpRateLimited;
use crate::context::Services;
use crate::domain::actor::Origin;
use crate::error::AppError;
use crate::error::responses::{Common, JsonBody, RateLimited};
use crate::http::Json;
use crate::services::accounts::{self, SignUp};
use crate::views::Accepted;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "zoe.muller@example.ch", "password": "correct horse battery staple", "first_name": "Zoë", "last_name": "Müller", "language": "fr", "timezone": "Europe/Zurich"}))]
pub struct CreateUser {
    /// The login ID; a verification link is mailed to it.
    #[schema(format = "email", max_length = 254)]
    pub email: String,
    /// 8 to 128 characters, not easy to guess (weak or common passwords are refused).
    #[schema(min_length = 8, max_length = 128)]
    pub password: String,
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub first_name: String,
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub last_name: String,
    /// `fr`, `en`, `de`, `it` or `es` (default `en`).
    #[schema(value_type = Option<crate::domain::Language>)]
    pub language: Option<String>,
    /// IANA time zone (default `Europe/Zurich`).
    pub timezone: Option<String>,
}

/// Create an account
///
/// The answer is the same whether or not the address already has one (the owner of an existing
/// account gets a mail instead); the account works once its address is confirmed through the mailed
/// link. Signing up again with an address not yet confirmed replaces the earlier attempt (its
/// password, names, language and time zone) and voids its link: only the newest link works, and it
/// confirms the newest attempt. An address gets at most 3 such mails an hour; further sign-ups are
/// answered the same and change nothing.
#[utoipa::path(
    operation_id = "create_user",
    tag = "accounts",
    request_body = CreateUser,
    responses(
        (status = 202, description = "Accepted: a mail is on its way if the address can be used", body = Accepted),
        JsonBody,
        RateLimited,
        Common,
    )
)]
#[post("/users")]
pub async fn create_user(
    _limited: IpRateLimited,
    services: web::Data<Services>,
    meta: Origin,
    body: Json<CreateUser>,
) -> Result<HttpResponse, AppError> {
    let body = body.0;
    let input = SignUp {
        email: body.email,
        password: body.password,
        first_name: body.first_name,
        last_name: body.last_name,
        language: body.language,
        timezone: body.timezone,
    };
    accounts::sign_up(&services.pool, &services.config, meta, input).await?;
    Ok(HttpResponse::Accepted().json(Accepted::mail_on_its_way()))
}
