use actix_web::{HttpResponse, get, web};

use crate::auth::Caller;
use crate::context::Services;
use crate::error::AppError;
use crate::error::responses::{Common, OrgAccess, Unauthenticated};
use crate::services::invoices;
use crate::views::billing::InvoiceView;

/// One invoice with its lines. Holders of `accounting`. Tokens need `billing:read`.
#[utoipa::path(
    operation_id = "get_invoice",
    tag = "billing",
    security(("bearer_jwt" = []), ("personal_token" = ["billing:read"])),
    params(("org_id" = String, Path, description = "The organisation's id (`org_…`)", example = "org_01936d7a6b2f7c3e9d4a5b6c7d8e9f00"), ("invoice_id" = String, Path, description = "The invoice's id (`inv_…`)", example = "inv_01936d7a6b2f7c3e9d4a5b6c7d8e9f13")),
    extensions(("x-leman-permission" = json!("accounting"))),
    responses(
        (status = 200, description = "The invoice", body = InvoiceView),
        Unauthenticated,
        OrgAccess,
        Common,
    )
)]
#[get("/orgs/{org_id}/invoices/{invoice_id}")]
pub async fn get_invoice(
    caller: Caller,
    services: web::Data<Services>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let (org_id, invoice_id) = path.into_inner();
    let (invoice, lines) = invoices::get(&services.pool, &caller, &org_id, &invoice_id).await?;
    Ok(HttpResponse::Ok().json(InvoiceView::new(&invoice, &lines)))
}
