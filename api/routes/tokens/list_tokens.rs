use actix_web::{HttpResponse, get, web};

use crate::auth::Caller;
use crate::context::Services;
use crate::domain::scopes::Scope;
use crate::error::AppError;
use crate::error::responses::{Common, InsufficientScope, Query as QueryErrors, Unauthenticated};
use crate::http::{PageParams, Query};
use crate::services::tokens;
use crate::views::tokens::{ApiTokenList, ApiTokenView};

/// The caller's tokens that are not revoked (expired ones included), newest first
///
/// Secrets are never shown again; `prefix` helps recognise one. Tokens need `account:read`.
#[utoipa::path(
    operation_id = "list_tokens",
    tag = "tokens",
    security(("bearer_jwt" = []), ("personal_token" = ["account:read"])),
    params(PageParams),
    responses(
        (status = 200, description = "A page of tokens", body = ApiTokenList),
        Unauthenticated,
        InsufficientScope,
        QueryErrors,
        Common,
    )
)]
#[get("/me/tokens")]
pub async fn list_tokens(
    caller: Caller,
    services: web::Data<Services>,
    page: Query<PageParams>,
) -> Result<HttpResponse, AppError> {
    caller.require_scope(Scope::AccountRead)?;
    let (rows, next_cursor) = tokens::list(&services.pool, caller.user_id, page.0).await?;
    Ok(HttpResponse::Ok().json(ApiTokenList {
        data: rows.iter().map(ApiTokenView::from).collect(),
        next_cursor,
    }))
}
