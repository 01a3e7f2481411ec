//! What account deletion (`services::deletion`) and organisation deletion
//! (`services::org_deletion`) share: an unmet prerequisite, the objects that block it, and the
//! outcome of a deletion. Both import this module and neither imports the other.

use serde::Serialize;
use utoipa::ToSchema;

/// How many blocking objects a prerequisite names at most; `count` still says how many there are.
pub const MAX_OBJECTS: i64 = 100;

/// What kind of object blocks a deletion, so a front end can link to it: `organization`,
/// `member` (id: the user's), `invitation`, `product`, `invoice`, `prepaid_account` (id: the
/// organisation's) or `payment` (a payment or top-up still being confirmed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ObjectKind {
    /// An organisation (`org_…`); `name` is its name.
    Organization,
    /// A member of the organisation, by user id (`usr_…`); `name` is their name.
    Member,
    /// A pending invitation (`ivt_…`); `name` is the invited address.
    Invitation,
    /// A product not cancelled (`prd_…`); `name` is its name.
    Product,
    /// An unpaid invoice (`inv_…`); `name` is its number.
    Invoice,
    /// The organisation's prepaid account, by organisation id; `name` says what it holds.
    PrepaidAccount,
    /// A payment or top-up the provider has yet to confirm (`pay_…`); `name` says what it is.
    Payment,
}

impl ObjectKind {
    /// The token scope that reads this kind of object where it lives (None: the deletion
    /// check's own scope suffices): a token sees the objects it could list, only the count
    /// of the others.
    pub fn read_scope(self) -> Option<crate::domain::scopes::Scope> {
        use crate::domain::scopes::Scope;
        match self {
            ObjectKind::Product => Some(Scope::ProductsRead),
            ObjectKind::Invoice | ObjectKind::PrepaidAccount | ObjectKind::Payment => {
                Some(Scope::BillingRead)
            }
            ObjectKind::Organization | ObjectKind::Member | ObjectKind::Invitation => None,
        }
    }
}

/// One object that blocks a deletion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blocker {
    pub kind: ObjectKind,
    pub id: String,
    /// A label for a human: a name, a number, an address.
    pub name: String,
}

impl Blocker {
    pub fn new(kind: ObjectKind, id: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            kind,
            id: id.into(),
            name: name.into(),
        }
    }
}

/// Something that blocks a deletion, what to do about it, and which objects block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unmet {
    /// Stable machine-readable reason, e.g. `only_member_of_organization`.
    pub code: &'static str,
    /// What to do, for a human.
    pub detail: String,
    /// How many objects block (for `prepaid_balance`: the balance in minor units).
    pub count: i64,
    /// The objects that block (at most [`MAX_OBJECTS`]).
    pub objects: Vec<Blocker>,
}

/// The outcome of a deletion request.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    Deleted,
    /// Nothing changed; each entry says what to do first.
    Blocked(Vec<Unmet>),
}
