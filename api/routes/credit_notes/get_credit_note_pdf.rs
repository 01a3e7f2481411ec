use actix_web::{HttpRequest, HttpResponse, get, web};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::context::Services;
use crate::domain::Language;
use crate::domain::ids::CreditNoteId;
use crate::error::AppError;
use crate::error::responses::{Common, OrgAccess, Query as QueryErrors, Unauthenticated};
use crate::http::Query;
use crate::http::org::{AccountingReads, InOrg, Requirement};
use crate::services::credit_notes;
use crate::views::credit_notes::PdfFile;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CreditNotePdfQuery {
    /// The document's language (default: the organisation's invoice language).
    #[param(value_type = Option<Language>, inline)]
    #[serde(default, deserialize_with = "crate::http::query::present")]
    pub lang: Option<String>,
}

/// `?lang=`: one of the five languages, or a 422 (an empty value too).
fn language(raw: Option<String>) -> Result<Option<Language>, AppError> {
    raw.map(|l| {
        serde_json::from_value::<Language>(serde_json::Value::String(l))
            .map_err(|_| AppError::field("lang", "invalid", "must be one of fr, en, de, it, es"))
    })
    .transpose()
}

/// Download a credit note as a PDF
///
/// A credit note as a PDF, in the organisation's invoice language unless `lang` names another.
/// The same credit note always gives the same bytes: send its `ETag` back in `If-None-Match`
/// for a `304`. Holders of `accounting`. Tokens need `billing:read`.
#[utoipa::path(
    operation_id = "get_credit_note_pdf",
    tag = "billing",
    security(("bearer_jwt" = []), ("personal_token" = [])),
    params(("org_id" = String, Path, description = "The organisation's id (`org_…`)", example = "org_01936d7a6b2f7c3e9d4a5b6c7d8e9f00"), ("credit_note_id" = String, Path, description = "The credit note's id (`cn_…`)", example = "cn_01936d7a6b2f7c3e9d4a5b6c7d8e9f40"), CreditNotePdfQuery),
    extensions(("x-leman-permission" = json!(AccountingReads::NEED)), ("x-leman-scope" = json!(AccountingReads::SCOPE))),
    responses(
        (status = 200, description = "The credit note as a PDF", content_type = "application/pdf", body = PdfFile,
         headers(("ETag" = String, description = "The hash of the document's bytes"), ("Content-Disposition" = String, description = "`inline` with the file's name"))),
        (status = 304, description = "Not modified: the `If-None-Match` names the document's `ETag`",
         headers(("ETag" = String, description = "The hash of the document's bytes"))),
        Unauthenticated,
        OrgAccess,
        QueryErrors,
        Common,
    )
)]
#[get("/orgs/{org_id}/credit-notes/{credit_note_id}/pdf")]
pub async fn get_credit_note_pdf(
    req: HttpRequest,
    org: InOrg<AccountingReads>,
    services: web::Data<Services>,
    path: web::Path<(String, String)>,
    query: Query<CreditNotePdfQuery>,
) -> Result<HttpResponse, AppError> {
    let id = CreditNoteId::parse(&path.1)?;
    let doc = credit_notes::pdf(
        &services.pool,
        &services.config,
        &org,
        id,
        language(query.0.lang)?,
    )
    .await?;
    Ok(crate::http::pdf::answer(&req, doc))
}
