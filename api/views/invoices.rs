//! Invoices as the API shows them.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::billing::money;
use super::credit_notes::CreditNoteRef;
use super::utc;
use crate::domain::billing_states::InvoiceStatus;
use crate::domain::money::Money;
use crate::domain::orgs::Currency;
use crate::models::credit_notes::CreditNote;
use crate::models::invoices::{Invoice, InvoiceLine};

/// One line of an invoice.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvoiceLineView {
    pub position: i32,
    pub description: String,
    pub product_id: Option<String>,
    pub quantity: i64,
    pub unit_price: Money,
    /// Percent, e.g. `"8.1"`.
    pub vat_rate: String,
    /// quantity × unit price.
    pub net: Money,
    /// net × rate, rounded to the cent (half away from zero).
    pub vat: Money,
    pub total: Money,
    pub period_start: Option<DateTime<Utc>>,
    pub period_end: Option<DateTime<Utc>>,
}

/// Who the invoice is addressed to, as it was when issued.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvoiceCustomer {
    pub name: String,
    pub address: String,
    pub country: String,
    pub vat_number: Option<String>,
}

/// An invoice. Issued invoices never change; only their status moves.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "inv_01936d7a6b2f7c3e9d4a5b6c7d8e9f13", "number": "2026-000042", "status": "paid",
    "currency": "CHF",
    "customer": {"name": "Müller Design Sàrl", "address": "Rue du Rhône 12\n1204 Genève\nCH", "country": "CH", "vat_number": null},
    "lines": [{"position": 1, "description": ".ch domain name (P1Y)", "product_id": "prd_01936d7a6b2f7c3e9d4a5b6c7d8e9f10", "quantity": 1,
               "unit_price": {"amount": "11.00", "currency": "CHF"}, "vat_rate": "8.1",
               "net": {"amount": "11.00", "currency": "CHF"}, "vat": {"amount": "0.89", "currency": "CHF"},
               "total": {"amount": "11.89", "currency": "CHF"},
               "period_start": "2026-11-26T09:00:00Z", "period_end": "2027-11-26T09:00:00Z"}],
    "subtotal": {"amount": "11.00", "currency": "CHF"}, "vat": {"amount": "0.89", "currency": "CHF"},
    "total": {"amount": "11.89", "currency": "CHF"}, "refunded": {"amount": "0.00", "currency": "CHF"},
    "order_id": "ord_01936d7a6b2f7c3e9d4a5b6c7d8e9f11",
    "issued_at": "2026-11-26T09:00:00Z", "due_at": "2026-12-26T09:00:00Z",
    "paid_at": "2026-11-26T09:00:01Z", "cancelled_at": null
}))]
pub struct InvoiceView {
    pub id: String,
    /// Yearly and gapless per issuer: `2026-000001`.
    pub number: String,
    pub status: InvoiceStatus,
    pub currency: Currency,
    pub customer: InvoiceCustomer,
    pub lines: Vec<InvoiceLineView>,
    /// Sum of the lines' net amounts.
    pub subtotal: Money,
    /// Sum of the lines' VAT.
    pub vat: Money,
    /// Sum of the lines' totals.
    pub total: Money,
    pub refunded: Money,
    pub order_id: Option<String>,
    pub issued_at: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
    pub paid_at: Option<DateTime<Utc>>,
    pub cancelled_at: Option<DateTime<Utc>>,
}

impl InvoiceView {
    pub fn new(i: &Invoice, lines: &[InvoiceLine]) -> Self {
        let c = i.currency.as_str();
        Self {
            id: i.id.clone(),
            number: i.number.clone(),
            status: i.status,
            currency: Currency::from_code(&i.currency),
            customer: InvoiceCustomer {
                name: i.customer_name.clone(),
                address: i.customer_address.clone(),
                country: i.customer_country.clone(),
                vat_number: i.customer_vat_number.clone(),
            },
            lines: lines
                .iter()
                .map(|l| InvoiceLineView {
                    position: l.position,
                    description: l.description.clone(),
                    product_id: l.product_id.clone(),
                    quantity: l.quantity,
                    unit_price: money(l.unit_price_minor, c),
                    vat_rate: l.vat_rate.clone(),
                    net: money(l.net_minor, c),
                    vat: money(l.vat_minor, c),
                    total: money(l.total_minor, c),
                    period_start: l.period_start.map(utc),
                    period_end: l.period_end.map(utc),
                })
                .collect(),
            subtotal: money(i.subtotal_minor, c),
            vat: money(i.vat_minor, c),
            total: money(i.total_minor, c),
            refunded: money(i.refunded_minor, c),
            order_id: i.order_id.clone(),
            issued_at: utc(i.issued_at),
            due_at: utc(i.due_at),
            paid_at: i.paid_at.map(utc),
            cancelled_at: i.cancelled_at.map(utc),
        }
    }
}

/// One invoice as `get_invoice` shows it: the invoice and the credit notes issued on it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "inv_01936d7a6b2f7c3e9d4a5b6c7d8e9f13", "number": "2026-000042", "status": "partially_refunded",
    "currency": "CHF",
    "customer": {"name": "Müller Design Sàrl", "address": "Rue du Rhône 12\n1204 Genève\nCH", "country": "CH", "vat_number": null},
    "lines": [{"position": 1, "description": ".ch domain name (P1Y)", "product_id": "prd_01936d7a6b2f7c3e9d4a5b6c7d8e9f10", "quantity": 1,
               "unit_price": {"amount": "11.00", "currency": "CHF"}, "vat_rate": "8.1",
               "net": {"amount": "11.00", "currency": "CHF"}, "vat": {"amount": "0.89", "currency": "CHF"},
               "total": {"amount": "11.89", "currency": "CHF"},
               "period_start": "2026-11-26T09:00:00Z", "period_end": "2027-11-26T09:00:00Z"}],
    "subtotal": {"amount": "11.00", "currency": "CHF"}, "vat": {"amount": "0.89", "currency": "CHF"},
    "total": {"amount": "11.89", "currency": "CHF"}, "refunded": {"amount": "5.00", "currency": "CHF"},
    "order_id": "ord_01936d7a6b2f7c3e9d4a5b6c7d8e9f11",
    "issued_at": "2026-11-26T09:00:00Z", "due_at": "2026-12-26T09:00:00Z",
    "paid_at": "2026-11-26T09:00:01Z", "cancelled_at": null,
    "credit_notes": [{"id": "cn_01936d7a6b2f7c3e9d4a5b6c7d8e9f40", "number": "CN-2026-000001",
                      "amount": {"amount": "5.00", "currency": "CHF"}, "issued_at": "2026-12-04T10:00:00Z"}]
}))]
pub struct InvoiceDetailView {
    #[serde(flatten)]
    pub invoice: InvoiceView,
    /// The credit notes its refunds issued, oldest first (empty when none).
    pub credit_notes: Vec<CreditNoteRef>,
}

impl InvoiceDetailView {
    pub fn new(i: &Invoice, lines: &[InvoiceLine], credit_notes: &[CreditNote]) -> Self {
        Self {
            invoice: InvoiceView::new(i, lines),
            credit_notes: credit_notes.iter().map(CreditNoteRef::new).collect(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"data": [], "next_cursor": null}))]
pub struct InvoiceList {
    pub data: Vec<InvoiceView>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}
