//! An organisation's billing settings (R27), as `GET` shows them and `PUT` takes them.

use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::Language;
use crate::models::billing_settings::BillingSettings;
use crate::services::billing_settings::parse_language;

/// How the organisation's invoices reach it. Never saved: no PDF attached, the language of the
/// organisation's country (fr for CH, FR, BE, LU, MC; de for DE, AT, LI; it for IT, SM, VA; es
/// for ES, AD; en elsewhere), no extra address.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"attach_invoice_pdf": true, "invoice_language": "fr", "invoice_email": "compta@example.ch"}))]
pub struct BillingSettingsView {
    /// Receipts and renewal mails carry the paid invoice as a PDF (R27).
    pub attach_invoice_pdf: bool,
    /// The language of the organisation's billing documents (invoices, credit notes, pro forma)
    /// and of the copies mailed to `invoice_email`.
    pub invoice_language: Language,
    /// An extra address that receives every paid invoice, its PDF attached; `null`: none.
    #[schema(required = true, format = "email")]
    pub invoice_email: Option<String>,
}

impl From<&BillingSettings> for BillingSettingsView {
    fn from(s: &BillingSettings) -> Self {
        Self {
            attach_invoice_pdf: s.attach_invoice_pdf,
            invoice_language: parse_language(&s.invoice_language),
            invoice_email: s.invoice_email.clone(),
        }
    }
}
