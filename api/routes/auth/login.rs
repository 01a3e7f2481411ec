use actix_web::{HttpResponse, post, web};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::auth::ratelimit::IpRateLimited;
use crate::context::Services;
use crate::domain::actor::Origin;
use crate::error::AppError;
use crate::error::responses::{Common, JsonBody, Login, RateLimited};
use crate::http::Json;
use crate::services::sessions::{self, LoginOutcome};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "zoe.muller@example.ch", "password": "correct horse battery staple"}))]
pub struct LoginInput {
    pub email: String,
    pub password: String,
}

/// Sign in with email and password
///
/// Returns the tokens, or — when two-factor authentication is on — `mfa_required` with a token for
/// `POST /v1/auth/login/mfa`. Failed attempts count towards the account's lock threshold.
#[utoipa::path(
    operation_id = "login",
    tag = "auth",
    request_body = LoginInput,
    responses(
        (status = 200, description = "Signed in (tokens), or the second factor is needed (`mfa_required`)", body = LoginOutcome, examples(
            ("signed_in" = (summary = "Signed in", value = json!({"outcome": "tokens", "access_token": "eyJhbGciOiJIUzI1NiIsImtpZCI6ImtleV8wMSJ9.eyJzdWIiOiJ1c3JfMDEifQ.c2lnbmF0dXJl", "token_type": "Bearer", "expires_in": 900, "refresh_token": "Vb3q3yO2kq1cO1u7W4dD2m8kq0x5r2T9yJrM3gS6pQ8", "session_id": "ses_01936d7a6b2f7c3e9d4a5b6c7d8e9f00"}))),
            ("mfa_required" = (summary = "Two-factor authentication is on", value = json!({"outcome": "mfa_required", "mfa_required": true, "mfa_token": "gwDRJXOAVsu1JX9l6ynX5nypta1Xrn0eRNYtYgCcdUU"}))),
        )),
        Login,
        JsonBody,
        RateLimited,
        Common,
    )
)]
#[post("/auth/login")]
pub async fn login(
    _limited: IpRateLimited,
    services: web::Data<Services>,
    meta: Origin,
    body: Json<LoginInput>,
) -> Result<HttpResponse, AppError> {
    let LoginInput { email, password } = body.0;
    let outcome = sessions::login(&services, meta, email, password).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(outcome))
}
