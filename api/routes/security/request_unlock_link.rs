use actix_web::{HttpResponse, post, web};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::auth::ratelimit::IpRateLimited;
use crate::context::Services;
use crate::domain::actor::Origin;
use crate::error::AppError;
use crate::error::responses::{Common, JsonBody, RateLimited};
use crate::http::Json;
use crate::services::security;
use crate::views::Accepted;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "zoe.muller@example.ch"}))]
pub struct UnlockRequestInput {
    /// The login ID of the locked account.
    pub email: String,
}

/// Ask for a new unlock link (the previous one stops working)
///
/// Always 202 with the same body: the answer does not tell whether the address has an account, or
/// whether it is locked; only the owner of a locked account gets a mail, at most 3 an hour (further
/// requests are answered the same and send nothing).
#[utoipa::path(
    operation_id = "request_unlock_link",
    tag = "auth",
    request_body = UnlockRequestInput,
    responses(
        (status = 202, description = "Accepted: a mail is on its way if a locked account uses this address", body = Accepted),
        JsonBody,
        RateLimited,
        Common,
    )
)]
#[post("/auth/unlock/request")]
pub async fn request_unlock_link(
    _limited: IpRateLimited,
    services: web::Data<Services>,
    meta: Origin,
    body: Json<UnlockRequestInput>,
) -> Result<HttpResponse, AppError> {
    security::request_unlock(&services, meta, body.0.email).await?;
    Ok(HttpResponse::Accepted().json(Accepted::mail_on_its_way()))
}
