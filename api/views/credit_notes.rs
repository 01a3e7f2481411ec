//! Credit notes as the API shows them: one per refund, referring to its invoice.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::billing::money;
use super::utc;
use crate::domain::billing_states::RefundDestination;
use crate::domain::money::Money;
use crate::domain::orgs::Currency;
use crate::models::credit_notes::CreditNote;
use crate::services::credit_notes::breakdown;

/// What a credit note gives back at one VAT rate.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreditNoteVatRow {
    /// Percent, as on the invoice (`"8.1"`).
    #[schema(example = "8.1")]
    pub vat_rate: String,
    pub net: Money,
    pub vat: Money,
    pub total: Money,
}

/// A credit note: what a refund gave back of an invoice, numbered `CN-YYYY-NNNNNN` in its own
/// gapless yearly sequence, split by VAT rate in proportion to the invoice's VAT rows.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "cn_01936d7a6b2f7c3e9d4a5b6c7d8e9f40", "number": "CN-2026-000001",
    "invoice_id": "inv_01936d7a6b2f7c3e9d4a5b6c7d8e9f13", "invoice_number": "2026-000042",
    "currency": "CHF", "destination": "prepaid",
    "vat_rows": [{"vat_rate": "8.1", "net": {"amount": "11.00", "currency": "CHF"},
                  "vat": {"amount": "0.89", "currency": "CHF"}, "total": {"amount": "11.89", "currency": "CHF"}}],
    "subtotal": {"amount": "11.00", "currency": "CHF"}, "vat": {"amount": "0.89", "currency": "CHF"},
    "total": {"amount": "11.89", "currency": "CHF"},
    "issued_at": "2026-12-04T10:00:00Z"
}))]
pub struct CreditNoteView {
    pub id: String,
    /// `CN-2026-000001`: gapless per year, apart from the invoice numbers.
    pub number: String,
    /// The invoice refunded.
    pub invoice_id: String,
    pub invoice_number: String,
    pub currency: Currency,
    /// Where the money went: the organisation's prepaid account or the method that paid.
    pub destination: RefundDestination,
    /// By VAT rate, lowest first; their totals sum to `total`.
    pub vat_rows: Vec<CreditNoteVatRow>,
    /// Sum of the rows' net amounts.
    pub subtotal: Money,
    /// Sum of the rows' VAT.
    pub vat: Money,
    /// The amount refunded.
    pub total: Money,
    pub issued_at: DateTime<Utc>,
}

impl CreditNoteView {
    pub fn new(n: &CreditNote, invoice_number: &str) -> Self {
        let c = n.currency.as_str();
        Self {
            id: n.id.clone(),
            number: n.number.clone(),
            invoice_id: n.invoice_id.clone(),
            invoice_number: invoice_number.to_string(),
            currency: Currency::from_code(c),
            destination: RefundDestination::parse(&n.destination)
                .unwrap_or(RefundDestination::Prepaid),
            vat_rows: breakdown(n)
                .iter()
                .map(|r| CreditNoteVatRow {
                    vat_rate: r.rate.clone(),
                    net: money(r.net_minor, c),
                    vat: money(r.vat_minor, c),
                    total: money(r.total_minor(), c),
                })
                .collect(),
            subtotal: money(n.subtotal_minor, c),
            vat: money(n.vat_minor, c),
            total: money(n.total_minor, c),
            issued_at: utc(n.issued_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"data": [], "next_cursor": null}))]
pub struct CreditNoteList {
    pub data: Vec<CreditNoteView>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// A credit note as its invoice lists it.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreditNoteRef {
    pub id: String,
    pub number: String,
    /// The amount refunded.
    pub amount: Money,
    pub issued_at: DateTime<Utc>,
}

impl CreditNoteRef {
    pub fn new(n: &CreditNote) -> Self {
        Self {
            id: n.id.clone(),
            number: n.number.clone(),
            amount: money(n.total_minor, &n.currency),
            issued_at: utc(n.issued_at),
        }
    }
}

/// A PDF document's bytes.
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary, example = "%PDF-1.7 …")]
pub struct PdfFile(pub Vec<u8>);
