//! The organisation's products as the API shows them.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::billing::money;
use super::utc;
use crate::domain::billing::period_name;
use crate::domain::billing_states::{ProductKind, ProductStatus};
use crate::domain::money::Money;
use crate::models::products::Product;

/// A product of the organisation.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "prd_01936d7a6b2f7c3e9d4a5b6c7d8e9f10", "offer_id": "ksuite-pro", "kind": "ksuite",
    "name": "kSuite Pro", "billing_period": "P1Y", "options": {"users": 25},
    "status": "active", "auto_renew": false, "price": {"amount": "744.00", "currency": "CHF"},
    "order_id": "ord_01936d7a6b2f7c3e9d4a5b6c7d8e9f11",
    "started_at": "2026-11-26T09:00:00Z", "expires_at": "2027-11-26T09:00:00Z",
    "created_at": "2026-11-26T08:59:00Z"
}))]
pub struct ProductView {
    pub id: String,
    pub offer_id: String,
    pub kind: ProductKind,
    pub name: String,
    pub billing_period: &'static str,
    /// Quantities of the offer's options (users, storage…).
    #[schema(value_type = Object)]
    pub options: BTreeMap<String, i64>,
    pub status: ProductStatus,
    pub auto_renew: bool,
    /// One period's price, options included, before VAT.
    pub price: Money,
    pub order_id: String,
    pub started_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl From<&Product> for ProductView {
    fn from(p: &Product) -> Self {
        Self {
            id: p.id.clone(),
            offer_id: p.offer_id.clone(),
            kind: p.kind,
            name: p.name.clone(),
            billing_period: period_name(p.period_months),
            options: serde_json::from_str(&p.options).unwrap_or_default(),
            status: p.status,
            auto_renew: p.auto_renew,
            price: money(p.price_minor, &p.currency),
            order_id: p.order_id.clone(),
            started_at: p.started_at.map(utc),
            expires_at: p.expires_at.map(utc),
            created_at: utc(p.created_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"data": [], "next_cursor": null}))]
pub struct ProductList {
    pub data: Vec<ProductView>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}
