use actix_web::{HttpResponse, get, web};

use crate::context::Services;
use crate::domain::money::Money;
use crate::error::AppError;
use crate::error::responses::{Common, OrgAccess, Unauthenticated};
use crate::http::org::{AccountingReads, InOrg, Requirement};
use crate::services::prepaid;
use crate::views::prepaid::PrepaidAccountView;

/// The prepaid account's balance and limits (R30)
///
/// Holders of `accounting`. Tokens need `billing:read`.
#[utoipa::path(
    operation_id = "get_prepaid_account",
    tag = "billing",
    security(("bearer_jwt" = []), ("personal_token" = [])),
    params(("org_id" = String, Path, description = "The organisation's id (`org_…`)", example = "org_01936d7a6b2f7c3e9d4a5b6c7d8e9f00")),
    extensions(("x-leman-permission" = json!(AccountingReads::NEED)), ("x-leman-scope" = json!(AccountingReads::SCOPE))),
    responses(
        (status = 200, description = "The account", body = PrepaidAccountView),
        Unauthenticated,
        OrgAccess,
        Common,
    )
)]
#[get("/orgs/{org_id}/prepaid-account")]
pub async fn get_prepaid_account(
    org: InOrg<AccountingReads>,
    services: web::Data<Services>,
) -> Result<HttpResponse, AppError> {
    let account = prepaid::account(&services.pool, &org).await?;
    let c = &services.config;
    Ok(HttpResponse::Ok().json(PrepaidAccountView {
        balance: account.balance,
        top_up_min: Money::new(c.prepaid_top_up_min, account.currency),
        top_up_max: Money::new(c.prepaid_top_up_max, account.currency),
        ceiling: Money::new(c.prepaid_ceiling, account.currency),
    }))
}
