//! A product's cancellation (R43–R46).

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::billing_states::{CancellationStatus, CancellationWhen, ProductStatus};
use crate::services::cancellations::Outcome;

/// A cancellation: `requested` (nothing changes until the link mailed to the requester confirms
/// it), `confirmed` or `withdrawn`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "cnl_01936d7a6b2f7c3e9d4a5b6c7d8e9f30", "product_id": "prd_01936d7a6b2f7c3e9d4a5b6c7d8e9f10",
    "status": "requested", "when": "end_of_term", "effective_at": "2027-03-01T10:00:00Z", "reason": "We moved our site elsewhere.",
    "backups_deleted_at_cancellation": true, "product_status": "active", "created_at": "2026-12-03T10:00:00Z", "confirmed_at": null}))]
pub struct CancellationView {
    /// `cnl_…`
    pub id: String,
    pub product_id: String,
    pub status: CancellationStatus,
    /// `end_of_term`: at the product's expiry (a term already over: at once); `now`: at once.
    pub when: CancellationWhen,
    /// When the product is (or would be, once confirmed now) cancelled.
    pub effective_at: Option<DateTime<Utc>>,
    pub reason: Option<String>,
    /// The product's backups are deleted for good at cancellation: no restore afterwards (R46).
    pub backups_deleted_at_cancellation: bool,
    /// The product's status now: unchanged until confirmed, then `cancellation_pending` or
    /// `cancelled`.
    pub product_status: ProductStatus,
    pub created_at: DateTime<Utc>,
    pub confirmed_at: Option<DateTime<Utc>>,
}

impl From<&Outcome> for CancellationView {
    fn from(o: &Outcome) -> Self {
        let c = &o.cancellation;
        Self {
            id: c.id.clone(),
            product_id: c.product_id.clone(),
            status: c.status,
            when: c.effective,
            effective_at: c.effective_at.map(|t| t.and_utc()),
            reason: c.reason.clone(),
            backups_deleted_at_cancellation: o.backups_deleted,
            product_status: o.product_status,
            created_at: c.created_at.and_utc(),
            confirmed_at: c.confirmed_at.map(|t| t.and_utc()),
        }
    }
}
