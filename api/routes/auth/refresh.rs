use actix_web::{HttpResponse, post, web};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::auth::ratelimit::IpRateLimited;
use crate::context::Services;
use crate::domain::actor::Origin;
use crate::error::AppError;
use crate::error::responses::{Common, JsonBody, RateLimited, Unauthenticated};
use crate::http::Json;
use crate::services::sessions::{self, Tokens};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"refresh_token": "Vb3q3yO2kq1cO1u7W4dD2m8kq0x5r2T9yJrM3gS6pQ8"}))]
pub struct RefreshInput {
    pub refresh_token: String,
}

/// Exchange the refresh token for a new access token and a new refresh token
///
/// Each refresh token works once: presenting one a second time ends the whole session. A session
/// idle for longer than its idle limit cannot be refreshed.
#[utoipa::path(
    operation_id = "refresh_session",
    tag = "auth",
    request_body = RefreshInput,
    responses(
        (status = 200, description = "New tokens", body = Tokens),
        Unauthenticated,
        JsonBody,
        RateLimited,
        Common,
    )
)]
#[post("/auth/refresh")]
pub async fn refresh(
    _limited: IpRateLimited,
    services: web::Data<Services>,
    meta: Origin,
    body: Json<RefreshInput>,
) -> Result<HttpResponse, AppError> {
    let tokens = sessions::refresh(&services, meta, body.0.refresh_token).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(tokens))
}
