use actix_web::{HttpRequest, HttpResponse, get, web};

use crate::context::Services;
use crate::domain::documents::DocumentKind;
use crate::error::AppError;
use crate::error::responses::{Common, OrgAccess, Query as QueryErrors, Unauthenticated};
use crate::http::Query;
use crate::http::org::{AccountingReads, InOrg, Requirement};
use crate::services::documents;
use crate::views::documents::{DocumentAnswers, DocumentQuery, PdfFile};

/// Download a pro forma invoice as a PDF
///
/// The pro forma invoice as a PDF (R28, R34): its number (`PF-…`, outside the invoice sequence),
/// lines, totals, and "no legal, tax or accounting value" in the document's language; a Swiss
/// QR-bill payment part for CHF (an EPC QR code for EUR) so it can be paid by transfer. In the
/// organisation's invoice language unless `lang` says otherwise. The same pro forma always
/// gives the same bytes: `ETag`, and `304` on `If-None-Match`. Holders of `accounting`. Tokens
/// need `billing:read`.
#[utoipa::path(
    operation_id = "get_pro_forma_pdf",
    tag = "renewals",
    security(("bearer_jwt" = []), ("personal_token" = [])),
    params(("org_id" = String, Path, description = "The organisation's id (`org_…`)", example = "org_01936d7a6b2f7c3e9d4a5b6c7d8e9f00"), ("pro_forma_id" = String, Path, description = "The pro forma's id (`pf_…`)", example = "pf_01936d7a6b2f7c3e9d4a5b6c7d8e9f30"), DocumentQuery),
    extensions(("x-leman-permission" = json!(AccountingReads::NEED)), ("x-leman-scope" = json!(AccountingReads::SCOPE))),
    responses(
        (status = 200, description = "The pro forma, `application/pdf`", content_type = "application/pdf", body = PdfFile,
         headers(("ETag" = String, description = "The hash of the bytes"), ("Content-Disposition" = String, description = "`inline; filename=\"pro-forma-PF-2026-000001.pdf\"`"))),
        DocumentAnswers,
        Unauthenticated,
        OrgAccess,
        QueryErrors,
        Common,
    )
)]
#[get("/orgs/{org_id}/pro-forma-invoices/{pro_forma_id}/pdf")]
pub async fn get_pro_forma_pdf(
    req: HttpRequest,
    org: InOrg<AccountingReads>,
    services: web::Data<Services>,
    path: web::Path<(String, String)>,
    query: Query<DocumentQuery>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner().1;
    let doc = documents::get(
        &services.pool,
        services.config.clone(),
        &org,
        DocumentKind::ProForma,
        id,
        query.0.lang,
    )
    .await?;
    Ok(crate::http::pdf::answer(&req, doc))
}
