use actix_web::{HttpResponse, patch, web};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::context::Services;
use crate::domain::actor::Origin;
use crate::domain::scopes::Scope;
use crate::error::AppError;
use crate::error::responses::{Common, InsufficientScope, JsonBody, Unauthenticated};
use crate::http::Json;
use crate::services::profile::{self, ProfileInput};
use crate::views::me::Me;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"language": "de", "timezone": "Europe/Berlin"}))]
pub struct UpdateMe {
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub first_name: Option<String>,
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub last_name: Option<String>,
    /// `fr`, `en`, `de`, `it` or `es`.
    #[schema(value_type = Option<crate::domain::Language>)]
    pub language: Option<String>,
    /// IANA time zone name, e.g. `Europe/Zurich`.
    pub timezone: Option<String>,
}

/// Change names, language or time zone
///
/// Only the fields sent change. Tokens need `account:write`.
#[utoipa::path(
    operation_id = "update_me",
    tag = "accounts",
    security(("bearer_jwt" = []), ("personal_token" = ["account:write"])),
    request_body = UpdateMe,
    responses(
        (status = 200, description = "The updated account", body = Me),
        Unauthenticated,
        InsufficientScope,
        JsonBody,
        Common,
    )
)]
#[patch("/me")]
pub async fn update_me(
    caller: Caller,
    services: web::Data<Services>,
    meta: Origin,
    body: Json<UpdateMe>,
) -> Result<HttpResponse, AppError> {
    caller.require_scope(Scope::AccountWrite)?;
    let b = body.0;
    let input = ProfileInput {
        first_name: b.first_name,
        last_name: b.last_name,
        language: b.language,
        timezone: b.timezone,
    };
    let user = profile::update(&services.pool, meta, caller, input).await?;
    Ok(HttpResponse::Ok().json(Me::from(&user)))
}
