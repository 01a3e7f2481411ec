//! Orders as the API shows them, with their products and payment.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::billing::money;
use super::payments::PaymentView;
use super::products::ProductView;
use super::utc;
use crate::domain::billing_states::OrderStatus;
use crate::domain::money::Money;
use crate::models::orders::Order;
use crate::models::payments::Payment;
use crate::models::products::Product;

/// An order and what it bought.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "ord_01936d7a6b2f7c3e9d4a5b6c7d8e9f11", "status": "paid",
    "invoice_id": "inv_01936d7a6b2f7c3e9d4a5b6c7d8e9f13", "total": {"amount": "11.89", "currency": "CHF"},
    "products": [], "renewals": [], "payment": null,
    "expires_at": "2026-12-26T09:00:00Z", "paid_at": "2026-11-26T09:00:01Z", "cancelled_at": null,
    "created_at": "2026-11-26T09:00:00Z"
}))]
pub struct OrderView {
    pub id: String,
    pub status: OrderStatus,
    pub invoice_id: String,
    /// The invoice's total, VAT included.
    pub total: Money,
    pub products: Vec<ProductView>,
    /// The terms a renewal order renews, each product's from its expiry (empty for an order of
    /// new products).
    pub renewals: Vec<super::renewals::RenewalTerm>,
    /// The payment made with this request, if one was asked for.
    pub payment: Option<PaymentView>,
    /// An open order not paid by then is cancelled with its invoice.
    pub expires_at: DateTime<Utc>,
    pub paid_at: Option<DateTime<Utc>>,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl OrderView {
    pub fn new(o: &Order, products: &[Product], payment: Option<&Payment>) -> Self {
        Self {
            id: o.id.clone(),
            status: o.status,
            invoice_id: o.invoice_id.clone(),
            total: money(o.total_minor, &o.currency),
            products: products.iter().map(ProductView::from).collect(),
            renewals: Vec::new(),
            payment: payment.map(PaymentView::from),
            expires_at: utc(o.expires_at),
            paid_at: o.paid_at.map(utc),
            cancelled_at: o.cancelled_at.map(utc),
            created_at: utc(o.created_at),
        }
    }
}

impl OrderView {
    /// A renewal order: the terms it renews.
    pub fn with_renewals(mut self, renewals: &[crate::models::renewals::Renewal]) -> Self {
        let currency = self.total.currency.as_str().to_string();
        self.renewals = renewals
            .iter()
            .map(|r| super::renewals::RenewalTerm::of(r, &currency))
            .collect();
        self
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"data": [], "next_cursor": null}))]
pub struct OrderList {
    pub data: Vec<OrderView>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}
