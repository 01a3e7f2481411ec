use actix_web::{HttpResponse, post, web};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::auth::ratelimit::IpRateLimited;
use crate::context::Services;
use crate::domain::actor::Origin;
use crate::error::responses::{Common, JsonBody, RateLimited};
use crate::error::{AppError, FieldError};
use crate::http::Json;
use crate::services::sessions::Tokens;
use crate::services::two_factor::{self, SecondFactor};

/// What the handler reads; `LoginMfaBody` is how the spec states "exactly one of the two".
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginMfaInput {
    pub mfa_token: String,
    pub code: Option<String>,
    pub recovery_code: Option<String>,
}

/// The second login step with the authenticator app's code.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"mfa_token": "gwDRJXOAVsu1JX9l6ynX5nypta1Xrn0eRNYtYgCcdUU", "code": "492039"}))]
pub struct LoginMfaWithCode {
    /// From the `mfa_required` answer of `POST /v1/auth/login` (valid 5 minutes).
    pub mfa_token: String,
    /// The 6-digit code the authenticator app shows now.
    pub code: String,
}

/// The second login step with a recovery code, which is used up.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"mfa_token": "gwDRJXOAVsu1JX9l6ynX5nypta1Xrn0eRNYtYgCcdUU", "recovery_code": "k7qp-2m4x-dzra-wz3e-h5tn-q6bc"}))]
pub struct LoginMfaWithRecoveryCode {
    /// From the `mfa_required` answer of `POST /v1/auth/login` (valid 5 minutes).
    pub mfa_token: String,
    /// One of the recovery codes (`xxxx-xxxx-xxxx-xxxx-xxxx-xxxx`, or the 16-character codes given
    /// before 2026-12; dashes and case do not matter).
    pub recovery_code: String,
}

/// The `mfa_token` with either `code` or `recovery_code` (not both).
#[derive(Deserialize, ToSchema)]
#[serde(untagged)]
#[schema(example = json!({"mfa_token": "gwDRJXOAVsu1JX9l6ynX5nypta1Xrn0eRNYtYgCcdUU", "code": "492039"}))]
pub enum LoginMfaBody {
    Code(LoginMfaWithCode),
    RecoveryCode(LoginMfaWithRecoveryCode),
}

/// Finish signing in with a second factor
///
/// The second login step when two-factor authentication is on: the `mfa_token` from
/// `POST /v1/auth/login` with a code of the authenticator app or a recovery code. Each code
/// works once; wrong ones count towards the account's lock threshold.
#[utoipa::path(
    operation_id = "login_mfa",
    tag = "auth",
    request_body = LoginMfaBody,
    responses(
        (status = 200, description = "Signed in", body = Tokens),
        (status = 401, description = "Invalid or expired `mfa_token`, wrong or already used code, or locked account: one answer for all (`invalid_credentials`)", body = crate::error::Problem, content_type = "application/problem+json",
         example = json!({"type": "urn:leman:problem:invalid_credentials", "title": "Unauthorized", "status": 401, "detail": "The email address or the password is wrong.", "code": "invalid_credentials"})),
        JsonBody,
        RateLimited,
        Common,
    )
)]
#[post("/auth/login/mfa")]
pub async fn login_mfa(
    _limited: IpRateLimited,
    services: web::Data<Services>,
    meta: Origin,
    body: Json<LoginMfaInput>,
) -> Result<HttpResponse, AppError> {
    let LoginMfaInput {
        mfa_token,
        code,
        recovery_code,
    } = body.0;
    let factor = match (code, recovery_code) {
        (Some(code), None) => SecondFactor::Code(code),
        (None, Some(recovery)) => SecondFactor::RecoveryCode(recovery),
        (code, _) => {
            let message = if code.is_some() {
                "send either `code` or `recovery_code`, not both"
            } else {
                "send `code` or `recovery_code`"
            };
            return Err(AppError::validation(
                ["/code", "/recovery_code"]
                    .into_iter()
                    .map(|field| FieldError {
                        field: field.into(),
                        code: "exactly_one_required".into(),
                        message: message.into(),
                    })
                    .collect(),
            ));
        }
    };
    let tokens = two_factor::complete_login(&services, meta, mfa_token, factor).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(tokens))
}
