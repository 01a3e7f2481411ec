//! The events of a domain's transfer out (issue 12). None carries the code: only what was done,
//! to which domain, and where the code went (masked).

use chrono::NaiveDateTime;
use serde_json::json;

use super::Event;
use crate::domain::events::ActivityKind;
use crate::models::domains::Domain;

fn at(t: Option<NaiveDateTime>) -> serde_json::Value {
    json!(t.map(|t| t.and_utc()))
}

impl<'a> Event<'a> {
    /// A code was mailed to the owner (`recipient` masked); `unlocked`/`privacy_disabled`: done
    /// first in the same request (R49).
    pub fn transfer_code_sent(
        user_id: &'a str,
        domain: &'a Domain,
        recipient: &str,
        unlocked: bool,
        privacy_disabled: bool,
    ) -> Self {
        let mut event = Event::new(ActivityKind::DomainTransferCodeSent, user_id)
            .organization(&domain.organization_id)
            .details(json!({
                "domain_id": domain.id,
                "name": domain.name,
                "recipient": recipient,
                "expires_at": at(domain.transfer_code_expires_at),
                "unlocked": unlocked,
                "privacy_disabled": privacy_disabled,
            }));
        event.product = Some(&domain.product_id);
        event
    }

    /// By a person (`Some`) or by the registry's poll (`None`).
    pub fn domain_transfer(kind: ActivityKind, actor: Option<&'a str>, domain: &'a Domain) -> Self {
        let mut event = Event::by(kind, actor)
            .organization(&domain.organization_id)
            .details(json!({
                "domain_id": domain.id,
                "name": domain.name,
                "transfer_state": domain.transfer_state,
                "gaining_registrar": domain.transfer_requested_by,
                "completes_at": at(domain.transfer_completes_at),
            }));
        event.product = Some(&domain.product_id);
        event
    }
}
