use actix_web::{HttpResponse, post, web};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::auth::ratelimit::IpRateLimited;
use crate::context::Services;
use crate::domain::actor::Origin;
use crate::error::AppError;
use crate::error::responses::{Common, RateLimited, TokenBody};
use crate::http::Json;
use crate::services::emails;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"token": "q0Zp7m3Vt2kX9sLr4Wc8yHb1NfJd6Ga5Ue0Ao3Ri7Ks"}))]
pub struct ConfirmRecoveryEmail {
    /// The `token` query parameter of the link mailed to the recovery address.
    pub token: String,
}

/// Confirm the pending recovery address with a mailed token
///
/// Confirm the pending recovery address with the token of the link mailed to it (single use,
/// valid 24 hours; no authentication: the token is the proof). It becomes the recovery address,
/// where password reset links go, and the login address is told. When it became the login
/// address in the meantime: 409, and nothing changes.
#[utoipa::path(
    operation_id = "confirm_recovery_email",
    tag = "accounts",
    request_body = ConfirmRecoveryEmail,
    responses(
        (status = 204, description = "The address is the confirmed recovery address"),
        (status = 409, description = "The address became the login address meanwhile (`same_as_login_email`)", body = crate::error::Problem, content_type = "application/problem+json",
         example = json!({"type": "urn:leman:problem:same_as_login_email", "title": "Conflict", "status": 409, "detail": "This address became your login address meanwhile; the recovery address must differ from it.", "code": "same_as_login_email"})),
        TokenBody,
        RateLimited,
        Common,
    )
)]
#[post("/me/recovery-email/confirm")]
pub async fn confirm_recovery_email(
    _limited: IpRateLimited,
    services: web::Data<Services>,
    meta: Origin,
    body: Json<ConfirmRecoveryEmail>,
) -> Result<HttpResponse, AppError> {
    emails::confirm_recovery_change(&services, meta, body.0.token).await?;
    Ok(HttpResponse::NoContent().finish())
}
