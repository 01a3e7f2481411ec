//! Billing documents as the API serves them.

use serde::Deserialize;
use utoipa::{IntoParams, IntoResponses, ToSchema};

use crate::domain::Language;
use crate::error::Problem;

/// A PDF file (`application/pdf`), A4. Its `ETag` is the hash of its bytes: the same document
/// always gives the same file.
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary, example = "%PDF-1.3 …")]
pub struct PdfFile(pub Vec<u8>);

/// The language of a document.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DocumentQuery {
    /// The document's language; default: the organisation's invoice language (its billing
    /// settings).
    #[param(example = "de")]
    #[serde(default, deserialize_with = "language")]
    pub lang: Option<Language>,
}

/// `?lang=` as a language; an empty or unknown one is refused (not read as absent).
fn language<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Language>, D::Error> {
    let raw = String::deserialize(d)?;
    Ok(Some(match raw.as_str() {
        "en" => Language::En,
        "fr" => Language::Fr,
        "de" => Language::De,
        "it" => Language::It,
        "es" => Language::Es,
        _ => {
            return Err(serde::de::Error::custom(format!(
                "{raw:?}: must be one of en, fr, de, it, es"
            )));
        }
    }))
}

/// Answers of a document download besides the file.
#[derive(IntoResponses)]
pub enum DocumentAnswers {
    /// The client's copy (`If-None-Match` names its `ETag`) is the current one.
    #[response(status = 304, description = "Not modified: the copy named by `If-None-Match` is current", headers(("ETag" = String, description = "The document's entity tag")))]
    NotModified,
}

/// The invoice cannot have a final PDF yet.
#[derive(IntoResponses)]
pub enum InvoiceNotFinal {
    /// The invoice is not paid (`invoice_not_paid`; a `Link` header points to its pro forma's
    /// PDF, or to where one is created with `create_pro_forma`), or was cancelled unpaid
    /// (`invoice_cancelled`).
    #[response(status = 409, content_type = "application/problem+json", headers(("Link" = String, description = "`</v1/orgs/…/pro-forma-invoices/pf_…/pdf>; rel=\"alternate\"` (its pro forma), or `</v1/orgs/…/pro-forma-invoices>; rel=\"create-form\"`")), example = json!({"type": "urn:leman:problem:invoice_not_paid", "title": "Conflict", "status": 409, "detail": "Invoice 2026-000123 is not paid yet: its final PDF exists once it is. Meanwhile, create a pro forma of what it bills (POST /v1/orgs/org_01936d7a6b2f7c3e9d4a5b6c7d8e9f00/pro-forma-invoices, operation create_pro_forma).", "code": "invoice_not_paid"}))]
    NotFinal(Problem),
}
