//! The outgoing webhook events (issue 14), named: endpoints registered, changed, deleted, their
//! secret rotated, a delivery retried. The secret itself is never recorded.

use serde_json::json;

use super::Event;
use crate::domain::events::ActivityKind;
use crate::models::webhook_endpoints::WebhookEndpoint;

impl<'a> Event<'a> {
    /// `kind`: one of the `webhook_endpoint.*` kinds; the endpoint as it is after the change.
    pub fn webhook_endpoint(
        kind: ActivityKind,
        user_id: &'a str,
        org_id: &'a str,
        endpoint: &WebhookEndpoint,
    ) -> Self {
        Event::new(kind, user_id)
            .organization(org_id)
            .details(json!({
                "webhook_endpoint_id": endpoint.id,
                "url": endpoint.url,
                "event_types": endpoint.event_type_names(),
                "enabled": endpoint.enabled,
            }))
    }

    pub fn webhook_delivery_retried(
        user_id: &'a str,
        org_id: &'a str,
        endpoint_id: &str,
        delivery_id: &str,
    ) -> Self {
        Event::new(ActivityKind::WebhookDeliveryRetried, user_id)
            .organization(org_id)
            .details(json!({
                "webhook_endpoint_id": endpoint_id,
                "webhook_delivery_id": delivery_id,
            }))
    }
}
