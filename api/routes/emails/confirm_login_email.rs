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
pub struct ConfirmLoginEmail {
    /// The `token` query parameter of the link mailed to the new address.
    pub token: String,
}

/// Confirm a new login address with a mailed token
///
/// Apply a login ID change with the token of the link mailed to the new address (single use,
/// valid 24 hours; no authentication: the token is the proof). The account signs in with the new
/// address from now on (its sessions go on), and the old address is told. When the address was
/// taken by another account, or became the recovery address, in the meantime: 409, and nothing
/// changes.
#[utoipa::path(
    operation_id = "confirm_login_email",
    tag = "accounts",
    request_body = ConfirmLoginEmail,
    responses(
        (status = 204, description = "The new address is the login ID; the old address has been told"),
        (status = 409, description = "Another account took this address meanwhile (`email_taken`), or it became the recovery address (`same_as_recovery_email`)", body = crate::error::Problem, content_type = "application/problem+json", examples(
            ("email_taken" = (summary = "Taken meanwhile", value = json!({"type": "urn:leman:problem:email_taken", "title": "Conflict", "status": 409, "detail": "Another account signs in with this address; choose another one.", "code": "email_taken"}))),
            ("same_as_recovery_email" = (summary = "Now the recovery address", value = json!({"type": "urn:leman:problem:same_as_recovery_email", "title": "Conflict", "status": 409, "detail": "This address became your recovery address meanwhile; the login address must differ from it.", "code": "same_as_recovery_email"}))),
        )),
        TokenBody,
        RateLimited,
        Common,
    )
)]
#[post("/users/confirm-login-email")]
pub async fn confirm_login_email(
    _limited: IpRateLimited,
    services: web::Data<Services>,
    meta: Origin,
    body: Json<ConfirmLoginEmail>,
) -> Result<HttpResponse, AppError> {
    emails::confirm_login_change(&services, meta, body.0.token).await?;
    Ok(HttpResponse::NoContent().finish())
}
