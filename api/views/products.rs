//! The organisation's products as the API shows them.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::billing::money;
use super::utc;
use crate::catalog::{Catalog, Lifecycle};
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
    "created_at": "2026-11-26T08:59:00Z", "auto_renew_payment_method_id": null,
    "bundle_id": null,
    "scheduled_change": {"billing_period": "P1M", "options": null, "effective_at": "2027-11-26T09:00:00Z"},
    "backups": false
}))]
pub struct ProductView {
    pub id: String,
    pub offer_id: String,
    pub kind: ProductKind,
    pub name: String,
    pub billing_period: &'static str,
    /// Quantities of the offer's options (users, storage…): option code → quantity.
    #[schema(value_type = BTreeMap<String, u32>, example = json!({"users": 25, "storage_gb": 100}))]
    pub options: BTreeMap<String, i64>,
    pub status: ProductStatus,
    pub auto_renew: bool,
    /// One period's price, options included, before VAT.
    pub price: Money,
    pub order_id: String,
    pub started_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// The saved card that pays its automatic renewal, when it renews automatically.
    pub auto_renew_payment_method_id: Option<String>,
    /// The bundle product this one is included in (then it is neither billed, cancelled nor
    /// moved alone).
    pub bundle_id: Option<String>,
    /// What changes at the term's end (a billing period, fewer options); `null` when nothing.
    pub scheduled_change: Option<ScheduledChange>,
    /// The product keeps backups, deleted for good when it is cancelled (R46).
    pub backups: bool,
}

/// What changes at the term's end.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScheduledChange {
    /// The next term's billing period; `null`: unchanged.
    pub billing_period: Option<&'static str>,
    /// The next term's option quantities (option code → quantity); `null`: unchanged.
    #[schema(value_type = Option<BTreeMap<String, u32>>, example = json!({"users": 10}))]
    pub options: Option<BTreeMap<String, i64>>,
    /// When it applies: the current term's end.
    pub effective_at: Option<DateTime<Utc>>,
}

impl ProductView {
    /// The view with what the catalogue says of the product's offer (its backups).
    pub fn new(p: &Product, catalog: &Catalog) -> Self {
        let mut view = Self::from(p);
        if let Some(offer) = catalog.offer(&p.offer_id) {
            view.backups = offer.lifecycle.backups;
        }
        view
    }
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
            auto_renew_payment_method_id: p.auto_renew_payment_method_id.clone(),
            bundle_id: p.bundle_id.clone(),
            scheduled_change: (p.next_period_months.is_some() || p.next_options.is_some()).then(
                || ScheduledChange {
                    billing_period: p.next_period_months.map(period_name),
                    options: p
                        .next_options
                        .as_deref()
                        .and_then(|o| serde_json::from_str(o).ok()),
                    effective_at: p.expires_at.map(utc),
                },
            ),
            // The kind's default; `ProductView::new` reads the offer's own.
            backups: Lifecycle::for_kind(p.kind).backups,
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

/// A change recorded for the term's end (R38), or an upgrade applied at once.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "product": {"id": "prd_01936d7a6b2f7c3e9d4a5b6c7d8e9f10", "offer_id": "web-hosting-standard",
        "kind": "web_hosting", "name": "Web Hosting Standard", "billing_period": "P1Y",
        "options": {}, "status": "active", "auto_renew": false,
        "price": {"amount": "119.00", "currency": "CHF"},
        "order_id": "ord_01936d7a6b2f7c3e9d4a5b6c7d8e9f11",
        "started_at": "2026-11-26T09:00:00Z", "expires_at": "2027-11-26T09:00:00Z",
        "created_at": "2026-11-26T08:59:00Z", "auto_renew_payment_method_id": null,
        "bundle_id": null,
        "scheduled_change": {"billing_period": "P1M", "options": null, "effective_at": "2027-11-26T09:00:00Z"},
        "backups": true},
    "effective_at": "2027-11-26T09:00:00Z", "within_last_month": false,
    "note": "Scheduled for the term's end: the months already paid are not billed again."
}))]
pub struct ProductChangeView {
    pub product: ProductView,
    /// When what is scheduled applies: the current term's end (`null`: nothing is scheduled).
    pub effective_at: Option<DateTime<Utc>>,
    /// Asked inside the last month of the term (R38): the change applies at the term's end
    /// either way, and the months already paid are never billed again.
    pub within_last_month: bool,
    /// What happens, in words.
    pub note: String,
}

impl ProductChangeView {
    pub fn new(
        p: &Product,
        catalog: &Catalog,
        effective_at: Option<chrono::NaiveDateTime>,
        within_last_month: bool,
    ) -> Self {
        let note = match (effective_at, within_last_month) {
            (None, _) => "Nothing is scheduled for the term's end.",
            (Some(_), true) => "Asked inside the term's last month: it applies at the term's end.",
            (Some(_), false) => {
                "Scheduled for the term's end: the months already paid are not billed again."
            }
        };
        Self {
            product: ProductView::new(p, catalog),
            effective_at: effective_at.map(utc),
            within_last_month,
            note: note.to_string(),
        }
    }
}
