//! Auto-renewal's activity records (issue 11, R39–R41).

use serde_json::json;

use super::Event;
use crate::domain::events::ActivityKind;

impl<'a> Event<'a> {
    /// `actor` turned auto-renewal on for `product_id`, paid by the card `method_id`.
    pub fn auto_renewal_enabled(
        actor: &'a str,
        org_id: &'a str,
        product_id: &'a str,
        method_id: &str,
    ) -> Self {
        let mut e = Event::new(ActivityKind::AutoRenewalEnabled, actor)
            .organization(org_id)
            .details(json!({"product_id": product_id, "payment_method_id": method_id}));
        e.product = Some(product_id);
        e
    }

    /// Auto-renewal of `product_id` turned off: by `actor`, or (None) by Leman because its card
    /// was removed, expired or declined (`reason`).
    pub fn auto_renewal_disabled(
        actor: Option<&'a str>,
        org_id: &'a str,
        product_id: &'a str,
        reason: &str,
    ) -> Self {
        let mut e = Event::by(ActivityKind::AutoRenewalDisabled, actor)
            .organization(org_id)
            .details(json!({"product_id": product_id, "reason": reason}));
        e.product = Some(product_id);
        e
    }

    /// The scheduler made the renewal order `order_id` of `product_id` for the term from
    /// `period_start`.
    pub fn auto_renewal_ordered(
        org_id: &'a str,
        product_id: &'a str,
        order_id: &str,
        period_start: chrono::NaiveDateTime,
    ) -> Self {
        let mut e = Event::by(ActivityKind::AutoRenewalOrdered, None)
            .organization(org_id)
            .details(json!({"product_id": product_id, "order_id": order_id,
                "period_start": period_start.and_utc().to_rfc3339()}));
        e.product = Some(product_id);
        e
    }
}
