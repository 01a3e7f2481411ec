//! The product lifecycle's events (expiry, suspension, cancellation), named: each builds its
//! details in one place.

use chrono::NaiveDateTime;
use serde_json::json;

use super::Event;
use crate::domain::events::ActivityKind;
use crate::models::cancellations::Cancellation;
use crate::models::products::Product;

fn at(t: Option<NaiveDateTime>) -> serde_json::Value {
    json!(t.map(|t| t.and_utc()))
}

impl<'a> Event<'a> {
    /// By the expiry job: `to` is `expired`, `suspended` or `cancelled`; `included`: the bundle's
    /// products that followed it.
    pub fn product_lapsed(
        kind: ActivityKind,
        product: &'a Product,
        included: &[Product],
        cancellation_id: Option<&str>,
    ) -> Self {
        let mut event = Event::by(kind, None)
            .organization(&product.organization_id)
            .details(json!({
                "product_id": product.id,
                "expires_at": at(product.expires_at),
                "included_products": included.iter().map(|p| &p.id).collect::<Vec<_>>(),
                "cancellation_id": cancellation_id,
            }));
        event.product = Some(&product.id);
        event
    }

    pub fn cancellation_requested(
        user_id: &'a str,
        c: &'a Cancellation,
        backups_deleted: bool,
    ) -> Self {
        let mut event = Event::new(ActivityKind::CancellationRequested, user_id)
            .organization(&c.organization_id)
            .details(json!({
                "cancellation_id": c.id,
                "product_id": c.product_id,
                "when": c.effective,
                "backups_deleted_at_cancellation": backups_deleted,
            }));
        event.product = Some(&c.product_id);
        event
    }

    /// `cancelled_now`: the product is cancelled at once (else `cancellation_pending`).
    pub fn cancellation_confirmed(
        c: &'a Cancellation,
        effective_at: NaiveDateTime,
        cancelled_now: bool,
        included: &[Product],
    ) -> Self {
        let mut event = Event::new(ActivityKind::CancellationConfirmed, &c.requested_by)
            .organization(&c.organization_id)
            .details(json!({
                "cancellation_id": c.id,
                "product_id": c.product_id,
                "when": c.effective,
                "effective_at": effective_at.and_utc(),
                "cancelled_now": cancelled_now,
                "included_products": included.iter().map(|p| &p.id).collect::<Vec<_>>(),
            }));
        event.product = Some(&c.product_id);
        event
    }

    pub fn cancellation_withdrawn(user_id: &'a str, c: &'a Cancellation) -> Self {
        let mut event = Event::new(ActivityKind::CancellationWithdrawn, user_id)
            .organization(&c.organization_id)
            .details(json!({
                "cancellation_id": c.id,
                "product_id": c.product_id,
                "was": c.status,
            }));
        event.product = Some(&c.product_id);
        event
    }
}
