use actix_web::{HttpResponse, put, web};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::context::Services;
use crate::domain::actor::Origin;
use crate::error::AppError;
use crate::error::responses::{Common, JsonBody, Reauthenticate, Unauthenticated};
use crate::http::Json;
use crate::services::emails;
use crate::views::Accepted;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "zoe.backup@example.org"}))]
pub struct SetRecoveryEmail {
    /// Where password reset links should go; it must differ from the login address.
    pub email: String,
}

/// Set or change the recovery address
///
/// Set or change the recovery address (R6), a sensitive action: the session must have
/// authenticated within the last 5 minutes, and tokens are refused. The address becomes pending
/// and a confirmation link (valid 24 hours, single use) is mailed to it; the current recovery
/// address stays in force until the link is followed. The link can be re-sent, and the request
/// withdrawn.
///
/// Field codes of a 422: `invalid_email`, `same_as_login_email` or `same_as_current` on `/email`.
#[utoipa::path(
    operation_id = "set_recovery_email",
    tag = "accounts",
    security(("bearer_jwt" = [])),
    request_body = SetRecoveryEmail,
    responses(
        (status = 202, description = "Accepted: a confirmation link is on its way to the address", body = Accepted),
        Reauthenticate,
        Unauthenticated,
        JsonBody,
        Common,
    )
)]
#[put("/me/recovery-email")]
pub async fn set_recovery_email(
    caller: Caller,
    services: web::Data<Services>,
    meta: Origin,
    body: Json<SetRecoveryEmail>,
) -> Result<HttpResponse, AppError> {
    emails::request_recovery_change(&services, meta, caller, body.0.email).await?;
    Ok(HttpResponse::Accepted().json(Accepted::mail_on_its_way()))
}
