//! Domains' registration and renewal at the registry (issue 12), named events: by the jobs
//! that talk to the registry, so no person is their actor.

use serde_json::json;

use super::Event;
use crate::domain::events::ActivityKind;
use crate::domain::money::Money;
use crate::models::domains::Domain;

impl<'a> Event<'a> {
    pub fn domain_registered(d: &'a Domain) -> Self {
        let mut event = Event::by(ActivityKind::DomainRegistered, None)
            .organization(&d.organization_id)
            .details(json!({
                "domain_id": d.id,
                "name": d.name,
                "product_id": d.product_id,
                "registered_at": d.registered_at.map(|t| t.and_utc()),
                "expires_at": d.expires_at.map(|t| t.and_utc()),
            }));
        event.product = Some(&d.product_id);
        event
    }

    /// `refunded`: what went back to the prepaid account; `invoice_id` the invoice it came off.
    pub fn domain_registration_failed(
        d: &'a Domain,
        reason: &str,
        invoice_id: &str,
        refunded: Money,
    ) -> Self {
        let mut event = Event::by(ActivityKind::DomainRegistrationFailed, None)
            .organization(&d.organization_id)
            .details(json!({
                "domain_id": d.id,
                "name": d.name,
                "product_id": d.product_id,
                "reason": reason,
                "invoice_id": invoice_id,
                "refunded": refunded,
                "refunded_to": "prepaid",
            }));
        event.product = Some(&d.product_id);
        event
    }

    pub fn domain_renewed(
        d: &'a Domain,
        previous_expiry: chrono::NaiveDateTime,
        years: u32,
    ) -> Self {
        let mut event = Event::by(ActivityKind::DomainRenewed, None)
            .organization(&d.organization_id)
            .details(json!({
                "domain_id": d.id,
                "name": d.name,
                "product_id": d.product_id,
                "previous_expiry": previous_expiry.and_utc(),
                "expires_at": d.expires_at.map(|t| t.and_utc()),
                "years": years,
            }));
        event.product = Some(&d.product_id);
        event
    }
}
