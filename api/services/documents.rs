//! Billing documents as PDFs: an organisation's invoice (final only once paid, R24), credit
//! note or pro forma, in the organisation's invoice language unless one is asked for. Rendering
//! is deterministic (no clock or random inside), so the same document gives the same bytes.
//!
//! FOUNDATION: the body of `render` is a placeholder that the documents helper replaces with the
//! real renderer (api/documents/); its signature is the contract other parts call.

use crate::config::Config;
use crate::db::DbConnection;
use crate::domain::Language;
use crate::domain::documents::{DocumentKind, RenderedDocument};
use crate::error::AppError;
use crate::models::{credit_notes, invoices, pro_formas};
use crate::services::billing_settings;

/// Renders `org_id`'s document `kind`/`id` in `language` (default: the organisation's invoice
/// language). Not found when the document is not the organisation's; an invoice not yet paid
/// is 409 `invoice_not_paid`.
pub fn render(
    conn: &mut DbConnection,
    config: &Config,
    org_id: &str,
    kind: DocumentKind,
    id: &str,
    language: Option<Language>,
) -> Result<RenderedDocument, AppError> {
    let _ = config;
    let language = match language {
        Some(l) => l,
        None => billing_settings::parse_language(
            &billing_settings::effective(conn, org_id)?.invoice_language,
        ),
    };
    let (filename, title) = match kind {
        DocumentKind::Invoice => {
            let inv = invoices::find(conn, org_id, id)?
                .ok_or_else(|| AppError::not_found("No such invoice."))?;
            (format!("invoice-{}.pdf", inv.number), inv.number)
        }
        DocumentKind::CreditNote => {
            let cn = credit_notes::find(conn, org_id, id)?
                .ok_or_else(|| AppError::not_found("No such credit note."))?;
            (format!("credit-note-{}.pdf", cn.number), cn.number)
        }
        DocumentKind::ProForma => {
            let pf = pro_formas::find(conn, org_id, id)?
                .ok_or_else(|| AppError::not_found("No such pro forma invoice."))?;
            (format!("pro-forma-{}.pdf", pf.number), pf.number)
        }
    };
    let bytes = format!("%PDF-1.7\n% {title} {}\n%%EOF\n", language.code()).into_bytes();
    Ok(RenderedDocument { filename, bytes })
}
