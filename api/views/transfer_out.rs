//! A domain's transfer out as the API shows it: the state, its dates, where the code went
//! (masked) — never the code.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::utc;
use crate::domain::domains::TransferState;
use crate::services::transfer_out::{Overview, Started};

/// What `request_transfer_out` did: a code on its way to the owner, or (.uk) the domain
/// released to the gaining registrar's tag.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"state": "code_sent", "recipient": "o•••@example.ch", "expires_at": "2026-12-18T10:00:00Z", "released_to": null}))]
pub struct TransferOutStarted {
    /// `code_sent`, or `completed` for a release to a tag.
    pub state: TransferState,
    /// The WHOIS owner's address the code was mailed to, masked; `null` for a release.
    pub recipient: Option<String>,
    /// Until when the code is valid (the extension's validity).
    pub expires_at: Option<DateTime<Utc>>,
    /// `.uk`: the tag the domain was released to.
    #[schema(example = json!(null))]
    pub released_to: Option<String>,
}

impl From<&Started> for TransferOutStarted {
    fn from(s: &Started) -> Self {
        Self {
            state: s.domain.transfer_state,
            recipient: s.recipient.clone(),
            expires_at: s.domain.transfer_code_expires_at.map(utc),
            released_to: s.released_to.clone(),
        }
    }
}

/// A domain's transfer out: `none`, `code_sent`, `requested` (a registrar asked for it: the
/// registry approves it at `completes_at` unless it is rejected), `completed`, `cancelled`,
/// `rejected`. Never the code.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"state": "requested", "code_sent_at": "2026-12-04T10:00:00Z", "code_expires_at": "2026-12-18T10:00:00Z", "recipient": "o•••@example.ch", "requested_at": "2026-12-05T09:00:00Z", "requested_by": "OTHER-REGISTRAR", "completes_at": "2026-12-10T09:00:00Z", "completed_at": null}))]
pub struct TransferOutView {
    pub state: TransferState,
    /// When the latest code was mailed.
    pub code_sent_at: Option<DateTime<Utc>>,
    /// Until when the live code is valid (`null` once void).
    pub code_expires_at: Option<DateTime<Utc>>,
    /// Where the latest code went, masked.
    pub recipient: Option<String>,
    /// When a registrar asked for the domain (while `requested`).
    pub requested_at: Option<DateTime<Utc>>,
    /// The gaining registrar's tag.
    pub requested_by: Option<String>,
    /// When the registry approves a requested transfer unless it is rejected (nothing can
    /// bring it forward).
    pub completes_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
}

impl From<&Overview> for TransferOutView {
    fn from(o: &Overview) -> Self {
        let d = &o.domain;
        let at_state = |s: TransferState| {
            (d.transfer_state == s)
                .then_some(d.transfer_state_at)
                .flatten()
                .map(utc)
        };
        Self {
            state: d.transfer_state,
            code_sent_at: o.latest_code.as_ref().map(|c| utc(c.created_at)),
            code_expires_at: d.transfer_code_expires_at.map(utc),
            recipient: o.latest_code.as_ref().and_then(|c| c.recipient.clone()),
            requested_at: at_state(TransferState::Requested),
            requested_by: d.transfer_requested_by.clone(),
            completes_at: d.transfer_completes_at.map(utc),
            completed_at: at_state(TransferState::Completed),
        }
    }
}
