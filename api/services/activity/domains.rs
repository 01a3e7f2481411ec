//! Domains' activity records (issue 12 parts 4 and 5). Never a transfer code, never a contact's
//! personal data: ids, names and what changed.

use serde_json::json;

use super::Event;
use crate::domain::events::ActivityKind;

impl<'a> Event<'a> {
    fn domain(
        kind: ActivityKind,
        actor: Option<&'a str>,
        org_id: &'a str,
        product_id: &'a str,
        details: serde_json::Value,
    ) -> Self {
        let mut e = Event::by(kind, actor).organization(org_id).details(details);
        e.product = Some(product_id);
        e
    }

    /// `actor` changed a domain's contacts at once (`which`: owner, admin, tech).
    pub fn domain_contacts_updated(
        actor: &'a str,
        org_id: &'a str,
        product_id: &'a str,
        domain: &str,
        which: &[&str],
    ) -> Self {
        Self::domain(
            ActivityKind::DomainContactsUpdated,
            Some(actor),
            org_id,
            product_id,
            json!({"domain": domain, "contacts": which}),
        )
    }

    /// `actor` asked to change a domain's owner: change `change_id` waits for both owners.
    pub fn domain_owner_change_requested(
        actor: &'a str,
        org_id: &'a str,
        product_id: &'a str,
        domain: &str,
        change_id: &str,
    ) -> Self {
        Self::domain(
            ActivityKind::DomainOwnerChangeRequested,
            Some(actor),
            org_id,
            product_id,
            json!({"domain": domain, "owner_change_id": change_id}),
        )
    }

    /// One party (`current_owner` or `new_owner`) confirmed the change.
    pub fn domain_owner_change_confirmed(
        org_id: &'a str,
        product_id: &'a str,
        domain: &str,
        change_id: &str,
        party: &str,
    ) -> Self {
        Self::domain(
            ActivityKind::DomainOwnerChangeConfirmed,
            None,
            org_id,
            product_id,
            json!({"domain": domain, "owner_change_id": change_id, "party": party}),
        )
    }

    /// Both confirmed: the owner changed at the registry and here.
    pub fn domain_owner_changed(
        org_id: &'a str,
        product_id: &'a str,
        domain: &str,
        change_id: &str,
    ) -> Self {
        Self::domain(
            ActivityKind::DomainOwnerChanged,
            None,
            org_id,
            product_id,
            json!({"domain": domain, "owner_change_id": change_id}),
        )
    }

    /// WHOIS privacy on or off.
    pub fn domain_privacy_set(
        actor: &'a str,
        org_id: &'a str,
        product_id: &'a str,
        domain: &str,
        enabled: bool,
    ) -> Self {
        let kind = if enabled {
            ActivityKind::DomainPrivacyEnabled
        } else {
            ActivityKind::DomainPrivacyDisabled
        };
        Self::domain(
            kind,
            Some(actor),
            org_id,
            product_id,
            json!({"domain": domain, "privacy": enabled}),
        )
    }

    /// The registrar's lock (`clientTransferProhibited`) on or off.
    pub fn domain_lock_set(
        actor: &'a str,
        org_id: &'a str,
        product_id: &'a str,
        domain: &str,
        locked: bool,
    ) -> Self {
        let kind = if locked {
            ActivityKind::DomainLocked
        } else {
            ActivityKind::DomainUnlocked
        };
        Self::domain(
            kind,
            Some(actor),
            org_id,
            product_id,
            json!({"domain": domain, "locked": locked}),
        )
    }
}
