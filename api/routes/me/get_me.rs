use actix_web::{HttpResponse, get, web};

use crate::auth::Caller;
use crate::db;
use crate::error::ApiError;
use crate::error::responses::{Common, InsufficientScope, Unauthenticated};
use crate::models::users;
use crate::startup::Services;
use crate::views::me::Me;

/// The caller's account: login ID, names, language, time zone, recovery address, 2FA. Tokens
/// need `account:read`.
#[utoipa::path(
    operation_id = "get_me",
    tag = "accounts",
    security(("bearer_jwt" = []), ("personal_token" = ["account:read"])),
    responses(
        (status = 200, description = "The caller's account", body = Me),
        Unauthenticated,
        InsufficientScope,
        Common,
    )
)]
#[get("/me")]
pub async fn get_me(
    caller: Caller,
    services: web::Data<Services>,
) -> Result<HttpResponse, ApiError> {
    caller.require_scope("account:read")?;
    let user = db::run(&services.pool, move |conn| {
        Ok(users::find(conn, &caller.user_id)?)
    })
    .await?
    .ok_or_else(|| crate::auth::caller::unauthenticated("The account no longer exists."))?;
    Ok(HttpResponse::Ok().json(Me::from(&user)))
}
