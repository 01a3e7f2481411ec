use actix_web::{HttpResponse, get, web};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::context::Services;
use crate::error::AppError;
use crate::error::responses::{Common, OrgAccess, Query as QueryErrors, Unauthenticated};
use crate::http::org::{AccountingReads, InOrg, Requirement};
use crate::http::{PageParams, Query};
use crate::services::credit_notes;
use crate::views::credit_notes::{CreditNoteList, CreditNoteView};

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CreditNoteQuery {
    /// Only the credit notes of this invoice (`inv_…`).
    #[param(example = "inv_01936d7a6b2f7c3e9d4a5b6c7d8e9f13", min_length = 1)]
    #[serde(default, deserialize_with = "crate::http::query::present")]
    pub invoice_id: Option<String>,
}

/// List the organisation's credit notes, newest first
///
/// The organisation's credit notes, newest first: one per refund, each referring to its invoice
/// and split by VAT rate. Holders of `accounting`. Tokens need `billing:read`.
#[utoipa::path(
    operation_id = "list_credit_notes",
    tag = "billing",
    security(("bearer_jwt" = []), ("personal_token" = [])),
    params(("org_id" = String, Path, description = "The organisation's id (`org_…`)", example = "org_01936d7a6b2f7c3e9d4a5b6c7d8e9f00"), PageParams, CreditNoteQuery),
    extensions(("x-leman-permission" = json!(AccountingReads::NEED)), ("x-leman-scope" = json!(AccountingReads::SCOPE))),
    responses(
        (status = 200, description = "A page of credit notes", body = CreditNoteList),
        Unauthenticated,
        OrgAccess,
        QueryErrors,
        Common,
    )
)]
#[get("/orgs/{org_id}/credit-notes")]
pub async fn list_credit_notes(
    org: InOrg<AccountingReads>,
    services: web::Data<Services>,
    page: Query<PageParams>,
    query: Query<CreditNoteQuery>,
) -> Result<HttpResponse, AppError> {
    let invoice_id = credit_notes::parse_invoice_filter(query.0.invoice_id)?;
    let (rows, next_cursor) = credit_notes::list(&services.pool, &org, invoice_id, page.0).await?;
    Ok(HttpResponse::Ok().json(CreditNoteList {
        data: rows
            .iter()
            .map(|(n, i)| CreditNoteView::new(n, i))
            .collect(),
        next_cursor,
    }))
}
