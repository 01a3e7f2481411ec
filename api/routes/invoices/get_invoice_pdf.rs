use actix_web::{HttpRequest, HttpResponse, get, web};

use crate::context::Services;
use crate::domain::documents::DocumentKind;
use crate::domain::ids::InvoiceId;
use crate::error::AppError;
use crate::error::responses::{Common, OrgAccess, Query as QueryErrors, Unauthenticated};
use crate::http::Query;
use crate::http::org::{AccountingReads, InOrg, Requirement};
use crate::services::documents;
use crate::views::documents::{DocumentAnswers, DocumentQuery, InvoiceNotFinal, PdfFile};

/// Download the final invoice as a PDF
///
/// The final invoice as a PDF (R24), once paid (or refunded): issuer and customer with their
/// addresses and VAT numbers, dates, one row per line with its period, VAT per rate, totals, the
/// payment and the refunds (credit notes) received; a Swiss QR-bill payment part for CHF, an
/// EPC QR code for EUR. In the organisation's invoice language unless `lang` says otherwise.
/// The same invoice always gives the same bytes: `ETag`, and `304` on `If-None-Match`. An open
/// invoice is `409 invoice_not_paid` (its pro forma is the document meanwhile). Holders of
/// `accounting`. Tokens need `billing:read`.
#[utoipa::path(
    operation_id = "get_invoice_pdf",
    tag = "billing",
    security(("bearer_jwt" = []), ("personal_token" = [])),
    params(("org_id" = String, Path, description = "The organisation's id (`org_…`)", example = "org_01936d7a6b2f7c3e9d4a5b6c7d8e9f00"), ("invoice_id" = String, Path, description = "The invoice's id (`inv_…`)", example = "inv_01936d7a6b2f7c3e9d4a5b6c7d8e9f13"), DocumentQuery),
    extensions(("x-leman-permission" = json!(AccountingReads::NEED)), ("x-leman-scope" = json!(AccountingReads::SCOPE))),
    responses(
        (status = 200, description = "The invoice, `application/pdf`", content_type = "application/pdf", body = PdfFile,
         headers(("ETag" = String, description = "The hash of the bytes"), ("Content-Disposition" = String, description = "`inline; filename=\"invoice-2026-000123.pdf\"`"))),
        DocumentAnswers,
        Unauthenticated,
        OrgAccess,
        InvoiceNotFinal,
        QueryErrors,
        Common,
    )
)]
#[get("/orgs/{org_id}/invoices/{invoice_id}/pdf")]
pub async fn get_invoice_pdf(
    req: HttpRequest,
    org: InOrg<AccountingReads>,
    services: web::Data<Services>,
    path: web::Path<(String, String)>,
    query: Query<DocumentQuery>,
) -> Result<HttpResponse, AppError> {
    let invoice_id = InvoiceId::parse(&path.1)?;
    let doc = documents::get(
        &services.pool,
        services.config.clone(),
        &org,
        DocumentKind::Invoice,
        invoice_id.to_string(),
        query.0.lang,
    )
    .await?;
    Ok(crate::http::pdf::answer(&req, doc))
}
