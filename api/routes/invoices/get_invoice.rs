use actix_web::{HttpResponse, get, web};

use crate::context::Services;
use crate::domain::ids::InvoiceId;
use crate::error::AppError;
use crate::error::responses::{Common, OrgAccess, Unauthenticated};
use crate::http::org::{AccountingReads, InOrg, Requirement};
use crate::services::invoices;
use crate::views::invoices::InvoiceDetailView;

/// Get one invoice with its lines and credit notes
///
/// One invoice with its lines and the credit notes its refunds issued (`credit_notes`, oldest
/// first; see `GET …/credit-notes/{credit_note_id}`). Holders of `accounting`. Tokens need `billing:read`.
#[utoipa::path(
    operation_id = "get_invoice",
    tag = "billing",
    security(("bearer_jwt" = []), ("personal_token" = [])),
    params(("org_id" = String, Path, description = "The organisation's id (`org_…`)", example = "org_01936d7a6b2f7c3e9d4a5b6c7d8e9f00"), ("invoice_id" = String, Path, description = "The invoice's id (`inv_…`)", example = "inv_01936d7a6b2f7c3e9d4a5b6c7d8e9f13")),
    extensions(("x-leman-permission" = json!(AccountingReads::NEED)), ("x-leman-scope" = json!(AccountingReads::SCOPE))),
    responses(
        (status = 200, description = "The invoice, with the credit notes issued on it", body = InvoiceDetailView),
        Unauthenticated,
        OrgAccess,
        Common,
    )
)]
#[get("/orgs/{org_id}/invoices/{invoice_id}")]
pub async fn get_invoice(
    org: InOrg<AccountingReads>,
    services: web::Data<Services>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let invoice_id = InvoiceId::parse(&path.1)?;
    let (invoice, lines, notes) = invoices::get(&services.pool, &org, invoice_id).await?;
    Ok(HttpResponse::Ok().json(InvoiceDetailView::new(&invoice, &lines, &notes)))
}
