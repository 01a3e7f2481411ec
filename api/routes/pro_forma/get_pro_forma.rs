use actix_web::{HttpResponse, get, web};

use crate::context::Services;
use crate::error::AppError;
use crate::error::responses::{Common, OrgAccess, Unauthenticated};
use crate::http::org::{AccountingReads, InOrg, Requirement};
use crate::services::renewals;
use crate::views::renewals::ProFormaView;

/// Get one pro forma invoice
///
/// One pro forma invoice (R34): its lines as they will be invoiced, its totals, the bank
/// transfer's reference, and — once the money arrived — the order and numbered invoice issued
/// from it. Of no legal, tax or accounting value (`legal_value: false`). `status`:
/// `awaiting_transfer`, `paid` (a renewal's pro forma, its invoice issued), `lapsed`, or
/// `credited` — a pro forma made on request (`POST …/pro-forma-invoices`) whose reference a bank
/// transfer quoted: the money went in full to the prepaid account, `payment` is the transfer that
/// first settled it (a later one quoting it is credited too), nothing was ordered or invoiced.
/// Holders of `accounting`. Tokens need `billing:read`.
#[utoipa::path(
    operation_id = "get_pro_forma",
    tag = "renewals",
    security(("bearer_jwt" = []), ("personal_token" = [])),
    params(("org_id" = String, Path, description = "The organisation's id (`org_…`)", example = "org_01936d7a6b2f7c3e9d4a5b6c7d8e9f00"), ("pro_forma_id" = String, Path, description = "The pro forma's id (`pf_…`)", example = "pf_01936d7a6b2f7c3e9d4a5b6c7d8e9f30")),
    extensions(("x-leman-permission" = json!(AccountingReads::NEED)), ("x-leman-scope" = json!(AccountingReads::SCOPE))),
    responses(
        (status = 200, description = "The pro forma", body = ProFormaView),
        Unauthenticated,
        OrgAccess,
        Common,
    )
)]
#[get("/orgs/{org_id}/pro-forma-invoices/{pro_forma_id}")]
pub async fn get_pro_forma(
    org: InOrg<AccountingReads>,
    services: web::Data<Services>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner().1;
    let (pf, rows, payment) = renewals::get_pro_forma(&services.pool, &org, id).await?;
    Ok(HttpResponse::Ok().json(ProFormaView::new(
        &pf,
        &renewals::pro_forma_lines(&pf),
        &rows,
        payment.as_ref(),
        crate::db::now(),
    )))
}
