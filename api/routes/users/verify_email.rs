use actix_web::{HttpResponse, post, web};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::auth::ratelimit::IpRateLimited;
use crate::context::Services;
use crate::domain::actor::Origin;
use crate::error::AppError;
use crate::error::responses::{Common, RateLimited, TokenBody};
use crate::http::Json;
use crate::services::accounts;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"token": "q0Zp7m3Vt2kX9sLr4Wc8yHb1NfJd6Ga5Ue0Ao3Ri7Ks", "password": "tangerine orbit quietly sailing"}))]
pub struct TokenInput {
    /// The `token` query parameter of the link in the mail.
    pub token: String,
    /// The password chosen at the sign-up the link confirms. Needed when the address was signed
    /// up for more than once before its verification (the link alone does not prove whose
    /// sign-up it is: someone else may have signed up with the address since); checked whenever
    /// given. Front ends should always send it.
    #[serde(default)]
    pub password: Option<String>,
}

/// Confirm a new account's email address with a mailed token
///
/// Confirm the email address of a new account with the token of the mailed link (single use,
/// valid 24 hours), with the password chosen at that sign-up. The password is needed when the
/// address was signed up for more than once (422 `password_required` at `/password`) and checked
/// whenever given (422 `wrong_password`); either refusal changes nothing and leaves the link
/// usable: whoever did not make that sign-up signs up again, which voids its link.
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
    meta: Origin,
    body: Json<TokenInput>,
) -> Result<HttpResponse, AppError> {
    let TokenInput { token, password } = body.0;
    accounts::verify_email(&services.pool, meta, token, password).await?;
    Ok(HttpResponse::NoContent().finish())
}
