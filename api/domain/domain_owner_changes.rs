//! The vocabulary of a change of a domain's owner (issue 12 part 4), and the domain status as a
//! list filter.

use crate::domain::billing_states::filter;
use crate::domain::domains::DomainStatus;

text_enum! {
    /// A change of owner as kept: `pending` (waiting for one or both confirmations), `applied`,
    /// `replaced` (a newer request took its place) or `expired`.
    pub enum OwnerChangeStatus {
        Pending = "pending",
        Applied = "applied",
        Replaced = "replaced",
        Expired = "expired",
    }
}

text_enum! {
    /// A change of owner as the API shows it: `awaiting_confirmation` (one or both owners have
    /// not confirmed yet), `applied`, `replaced` (a newer request took its place), `expired`.
    pub enum OwnerChangeState {
        AwaitingConfirmation = "awaiting_confirmation",
        Applied = "applied",
        Replaced = "replaced",
        Expired = "expired",
    }
}

impl filter::Listed for DomainStatus {
    fn names() -> String {
        Self::ALL
            .iter()
            .map(|v| v.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}
