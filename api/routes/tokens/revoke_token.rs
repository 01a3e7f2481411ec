use actix_web::{HttpResponse, delete, web};

use crate::auth::Caller;
use crate::context::Services;
use crate::domain::actor::Origin;
use crate::domain::ids::TokenId;
use crate::domain::scopes::Scope;
use crate::error::AppError;
use crate::error::responses::{Common, InsufficientScope, NotFound, Unauthenticated};
use crate::services::tokens;

/// Revoke one of the caller's tokens: it stops working on the very next request
///
/// Tokens need `account:write` (a token may revoke itself).
#[utoipa::path(
    operation_id = "revoke_token",
    tag = "tokens",
    security(("bearer_jwt" = []), ("personal_token" = ["account:write"])),
    params(("token_id" = String, Path, description = "The token's id (`tok_…`)", example = "tok_01936d7a6b2f7c3e9d4a5b6c7d8e9f00")),
    responses(
        (status = 204, description = "The token is revoked"),
        Unauthenticated,
        InsufficientScope,
        NotFound,
        Common,
    )
)]
#[delete("/me/tokens/{token_id}")]
pub async fn revoke_token(
    caller: Caller,
    services: web::Data<Services>,
    meta: Origin,
    token_id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    caller.require_scope(Scope::AccountWrite)?;
    let token_id = TokenId::parse(&token_id)?;
    tokens::revoke(&services.pool, meta, caller.user_id, token_id).await?;
    Ok(HttpResponse::NoContent().finish())
}
