use actix_web::{HttpResponse, get, web};

use crate::context::Services;
use crate::domain::ids::CreditNoteId;
use crate::error::AppError;
use crate::error::responses::{Common, OrgAccess, Unauthenticated};
use crate::http::org::{AccountingReads, InOrg, Requirement};
use crate::services::credit_notes;
use crate::views::credit_notes::CreditNoteView;

/// Get one credit note
///
/// One credit note: the invoice it refers to, where the money went, the amount by VAT rate.
/// Holders of `accounting`. Tokens need `billing:read`.
#[utoipa::path(
    operation_id = "get_credit_note",
    tag = "billing",
    security(("bearer_jwt" = []), ("personal_token" = [])),
    params(("org_id" = String, Path, description = "The organisation's id (`org_…`)", example = "org_01936d7a6b2f7c3e9d4a5b6c7d8e9f00"), ("credit_note_id" = String, Path, description = "The credit note's id (`cn_…`)", example = "cn_01936d7a6b2f7c3e9d4a5b6c7d8e9f40")),
    extensions(("x-leman-permission" = json!(AccountingReads::NEED)), ("x-leman-scope" = json!(AccountingReads::SCOPE))),
    responses(
        (status = 200, description = "The credit note", body = CreditNoteView),
        Unauthenticated,
        OrgAccess,
        Common,
    )
)]
#[get("/orgs/{org_id}/credit-notes/{credit_note_id}")]
pub async fn get_credit_note(
    org: InOrg<AccountingReads>,
    services: web::Data<Services>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let id = CreditNoteId::parse(&path.1)?;
    let (note, invoice_number) = credit_notes::get(&services.pool, &org, id).await?;
    Ok(HttpResponse::Ok().json(CreditNoteView::new(&note, &invoice_number)))
}
