use actix_web::{HttpResponse, get};

use crate::auth::Caller;
use crate::domain::scopes::Scope;
use crate::error::AppError;
use crate::error::responses::{Common, InsufficientScope, Unauthenticated};
use crate::views::me::Me;

/// Get the caller's account
///
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
pub async fn get_me(caller: Caller) -> Result<HttpResponse, AppError> {
    caller.require_scope(Scope::AccountRead)?;
    // The account came with the session check: no second query.
    Ok(HttpResponse::Ok().json(Me::from(&caller.account)))
}
