use actix_web::{HttpResponse, get, web};

use crate::context::Services;
use crate::error::AppError;
use crate::error::responses::{Common, OrgAccess, Query as QueryErrors, Unauthenticated};
use crate::http::org::{AccountingReads, InOrg, Requirement};
use crate::http::{PageParams, Query};
use crate::services::prepaid;
use crate::views::prepaid::{PrepaidTransactionList, PrepaidTransactionView};

/// List the prepaid account's transactions, newest first
///
/// The prepaid account's ledger, newest first: every top-up, payment, withdrawal and refund,
/// with the balance after it. Append-only; it sums to the balance. Holders of `accounting`.
/// Tokens need `billing:read`.
#[utoipa::path(
    operation_id = "list_prepaid_transactions",
    tag = "billing",
    security(("bearer_jwt" = []), ("personal_token" = [])),
    params(("org_id" = String, Path, description = "The organisation's id (`org_…`)", example = "org_01936d7a6b2f7c3e9d4a5b6c7d8e9f00"), PageParams),
    extensions(("x-leman-permission" = json!(AccountingReads::NEED)), ("x-leman-scope" = json!(AccountingReads::SCOPE))),
    responses(
        (status = 200, description = "A page of movements", body = PrepaidTransactionList),
        Unauthenticated,
        OrgAccess,
        QueryErrors,
        Common,
    )
)]
#[get("/orgs/{org_id}/prepaid-account/transactions")]
pub async fn list_prepaid_transactions(
    org: InOrg<AccountingReads>,
    services: web::Data<Services>,
    page: Query<PageParams>,
) -> Result<HttpResponse, AppError> {
    let (rows, next_cursor) = prepaid::ledger(&services.pool, &org, page.0).await?;
    Ok(HttpResponse::Ok().json(PrepaidTransactionList {
        data: rows.iter().map(PrepaidTransactionView::from).collect(),
        next_cursor,
    }))
}
