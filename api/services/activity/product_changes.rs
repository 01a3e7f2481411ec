//! The product change events (R37, R38, R42): a change scheduled for the term's end or
//! withdrawn, an upgrade ordered or applied at once, a move between organisations.

use serde_json::json;

use super::Event;
use crate::domain::billing::period_name;
use crate::domain::events::ActivityKind;
use crate::domain::money::Money;
use crate::models::orders::Order;
use crate::models::products::Product;

impl<'a> Event<'a> {
    fn about(action: ActivityKind, user_id: &'a str, org_id: &'a str, product: &'a str) -> Self {
        let mut e = Event::new(action, user_id).organization(org_id);
        e.product = Some(product);
        e
    }

    /// What now changes at the term's end (`next_period_months`, `next_options`).
    pub fn product_change_scheduled(user_id: &'a str, product: &'a Product) -> Self {
        Event::about(
            ActivityKind::ProductChangeScheduled,
            user_id,
            &product.organization_id,
            &product.id,
        )
        .details(json!({
            "product_id": product.id,
            "billing_period": product.next_period_months.map(period_name),
            "options": product.next_options.as_deref().and_then(|o| serde_json::from_str::<serde_json::Value>(o).ok()),
            "effective_at": product.expires_at,
        }))
    }

    pub fn product_change_withdrawn(user_id: &'a str, product: &'a Product) -> Self {
        Event::about(
            ActivityKind::ProductChangeWithdrawn,
            user_id,
            &product.organization_id,
            &product.id,
        )
        .details(json!({
            "product_id": product.id,
            "billing_period": product.next_period_months.map(period_name),
            "options": product.next_options.as_deref().and_then(|o| serde_json::from_str::<serde_json::Value>(o).ok()),
        }))
    }

    /// `options`: the quantities once paid; `total`: what the order costs.
    pub fn product_upgrade_ordered(
        user_id: &'a str,
        product: &'a Product,
        order: &Order,
        options: &serde_json::Value,
        total: Money,
    ) -> Self {
        Event::about(
            ActivityKind::ProductUpgradeOrdered,
            user_id,
            &product.organization_id,
            &product.id,
        )
        .details(json!({
            "product_id": product.id,
            "order_id": order.id,
            "invoice_id": order.invoice_id,
            "options": options,
            "total": total,
        }))
    }

    pub fn product_upgraded(
        user_id: &'a str,
        product: &'a Product,
        options: &serde_json::Value,
    ) -> Self {
        Event::about(
            ActivityKind::ProductUpgraded,
            user_id,
            &product.organization_id,
            &product.id,
        )
        .details(json!({"product_id": product.id, "options": options}))
    }

    /// In the organisation the products left; `moved`: the product and what its bundle
    /// includes.
    pub fn product_moved_out(
        user_id: &'a str,
        from_org: &'a str,
        to_org: &str,
        product: &'a str,
        moved: &[String],
    ) -> Self {
        Event::about(ActivityKind::ProductMovedOut, user_id, from_org, product).details(
            json!({"product_id": product, "to_organization_id": to_org, "products": moved}),
        )
    }

    /// In the organisation the products joined.
    pub fn product_moved_in(
        user_id: &'a str,
        to_org: &'a str,
        from_org: &str,
        product: &'a str,
        moved: &[String],
    ) -> Self {
        Event::about(ActivityKind::ProductMovedIn, user_id, to_org, product).details(
            json!({"product_id": product, "from_organization_id": from_org, "products": moved}),
        )
    }
}
