//! Domains as the API shows them (issue 12 part 3–5).

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::utc;
use crate::domain::domain_owner_changes::OwnerChangeState;
use crate::domain::domains::{Contact, Contacts, DomainStatus, EppStatus, TransferState};
use crate::extensions::Extensions;
use crate::models::domain_owner_changes::{OwnerChange, OwnerChangeStatus};
use crate::models::domains::Domain;

/// The state of a transfer out, in short (`GET …/transfer-out` tells the whole).
#[derive(Debug, Serialize, ToSchema)]
pub struct TransferOutSummary {
    pub state: TransferState,
    /// Since when it is in that state; `null` for `none`.
    pub since: Option<DateTime<Utc>>,
}

/// A domain of the organisation.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "dom_01936d7a6b2f7c3e9d4a5b6c7d8e9f20", "name": "xn--mller-kva.ch",
    "unicode_name": "müller.ch", "tld": "ch", "status": "active",
    "registry_statuses": ["ok"], "registered_at": "2026-11-26T09:00:00Z",
    "expires_at": "2027-11-26T09:00:00Z", "locked": false, "privacy": false,
    "privacy_available": true, "auto_renew": false,
    "product_id": "prd_01936d7a6b2f7c3e9d4a5b6c7d8e9f10",
    "owner": {"name": "Alice Muster", "organization": "Muster AG", "address_line1": "Rue du Lac 1",
        "address_line2": null, "postal_code": "1003", "city": "Lausanne", "country": "CH",
        "email": "alice@example.ch", "phone": "+41211234567"},
    "transfer_out": {"state": "none", "since": null}
}))]
pub struct DomainView {
    pub id: String,
    /// ASCII (punycode), lower case, as registries know it.
    pub name: String,
    /// As people write it.
    pub unicode_name: String,
    /// The extension, without the dot.
    pub tld: String,
    pub status: DomainStatus,
    /// The EPP statuses the registry last reported (`clientTransferProhibited` when locked).
    pub registry_statuses: Vec<EppStatus>,
    pub registered_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    /// Locked against transfers at the registry (`clientTransferProhibited`).
    pub locked: bool,
    /// WHOIS privacy is on.
    pub privacy: bool,
    /// The extension offers WHOIS privacy.
    pub privacy_available: bool,
    /// Its product renews automatically.
    pub auto_renew: bool,
    pub product_id: String,
    /// The owner (registrant) as WHOIS has it.
    pub owner: Contact,
    pub transfer_out: TransferOutSummary,
}

impl DomainView {
    pub fn new(d: &Domain, auto_renew: bool, extensions: &Extensions) -> Self {
        Self {
            id: d.id.clone(),
            name: d.name.clone(),
            unicode_name: d.unicode_name.clone(),
            tld: d.tld.clone(),
            status: d.status,
            registry_statuses: d.statuses(),
            registered_at: d.registered_at.map(utc),
            expires_at: d.expires_at.map(utc),
            locked: d.locked,
            privacy: d.privacy,
            privacy_available: extensions.get(&d.tld).is_some_and(|e| e.privacy),
            auto_renew,
            product_id: d.product_id.clone(),
            owner: d.owner(),
            transfer_out: TransferOutSummary {
                state: d.transfer_state,
                since: d.transfer_state_at.map(utc),
            },
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"data": [], "next_cursor": null}))]
pub struct DomainList {
    pub data: Vec<DomainView>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// The contacts of a domain as the registry has them.
pub use crate::services::domains::contacts_of;

/// A change of owner waiting for the current owner's and the new owner's confirmation.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "doc_01936d7a6b2f7c3e9d4a5b6c7d8e9f30", "domain_id": "dom_01936d7a6b2f7c3e9d4a5b6c7d8e9f20",
    "status": "awaiting_confirmation", "current_owner_confirmed": false, "new_owner_confirmed": false,
    "expires_at": "2026-12-11T09:00:00Z", "contacts": null
}))]
pub struct OwnerChangeView {
    pub id: String,
    pub domain_id: String,
    pub status: OwnerChangeState,
    pub current_owner_confirmed: bool,
    pub new_owner_confirmed: bool,
    /// The links mailed to both owners are valid until then.
    pub expires_at: DateTime<Utc>,
    /// Once applied: the domain's contacts.
    pub contacts: Option<Contacts>,
}

impl OwnerChangeView {
    pub fn new(c: &OwnerChange, contacts: Option<Contacts>) -> Self {
        Self {
            id: c.id.clone(),
            domain_id: c.domain_id.clone(),
            status: match c.status {
                OwnerChangeStatus::Pending if c.expires_at <= crate::db::now() => {
                    OwnerChangeState::Expired
                }
                OwnerChangeStatus::Pending => OwnerChangeState::AwaitingConfirmation,
                OwnerChangeStatus::Applied => OwnerChangeState::Applied,
                OwnerChangeStatus::Replaced => OwnerChangeState::Replaced,
                OwnerChangeStatus::Expired => OwnerChangeState::Expired,
            },
            current_owner_confirmed: c.old_confirmed_at.is_some(),
            new_owner_confirmed: c.new_confirmed_at.is_some(),
            expires_at: utc(c.expires_at),
            contacts,
        }
    }
}
