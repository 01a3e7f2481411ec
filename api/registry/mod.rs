//! The domain registry, behind `Registry`: an EPP-shaped adapter (RFC 5730/5731) beside the
//! payment gateway. Calls are blocking network calls in a real adapter: make them from
//! `spawn_blocking` and **never inside a database transaction** (a job or a route calls the
//! registry, then writes what it answered). The built-in `sandbox` registry keeps its state in
//! the database (its own tables, as a registry's own records would be) and is the default;
//! `LEMAN_REGISTRY` chooses the adapter.

pub mod sandbox;

use chrono::NaiveDateTime;

use crate::domain::domains::{Contacts, EppStatus};

/// Our registrar's tag at the registries (the sandbox's other registrars have other tags).
pub const OUR_REGISTRAR: &str = "LEMAN";

/// Whether a name can be registered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Availability {
    pub name: String,
    pub available: bool,
    /// Why not, as the registry says it (`in use`, `reserved`).
    pub reason: Option<String>,
}

/// A transfer's state at the registry (RFC 5730 `trStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransferStatus {
    Pending,
    ClientApproved,
    ClientCancelled,
    ClientRejected,
    ServerApproved,
    ServerCancelled,
}

impl TransferStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::ClientApproved => "clientApproved",
            Self::ClientCancelled => "clientCancelled",
            Self::ClientRejected => "clientRejected",
            Self::ServerApproved => "serverApproved",
            Self::ServerCancelled => "serverCancelled",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [
            Self::Pending,
            Self::ClientApproved,
            Self::ClientCancelled,
            Self::ClientRejected,
            Self::ServerApproved,
            Self::ServerCancelled,
        ]
        .into_iter()
        .find(|s| s.as_str() == raw)
    }

    /// The domain changed registrar.
    pub fn is_approved(self) -> bool {
        matches!(self, Self::ClientApproved | Self::ServerApproved)
    }
}

/// A transfer the registry knows of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferInfo {
    pub status: TransferStatus,
    pub gaining_registrar: String,
    pub requested_at: NaiveDateTime,
    /// When the registry approves it unless it is rejected first.
    pub act_at: NaiveDateTime,
}

/// What the registry says of a domain (EPP `<domain:info>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryDomain {
    pub name: String,
    /// The sponsoring registrar's tag.
    pub registrar: String,
    pub statuses: Vec<EppStatus>,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub last_transferred_at: Option<NaiveDateTime>,
    /// The owner's (registrant's) email as WHOIS has it: where a transfer code goes (R48).
    pub owner_email: String,
    pub privacy: bool,
    /// The latest transfer, if any.
    pub transfer: Option<TransferInfo>,
}

/// One message of the registrar's poll queue (RFC 5730 `<poll>`; transfers are code 1301).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PollMessage {
    pub id: String,
    pub domain: String,
    pub transfer: TransferInfo,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RegistryError {
    /// 2302: the name is registered already (perhaps meanwhile, by someone else).
    #[error("the name is not available")]
    NotAvailable,
    /// 2303: no such domain at the registry.
    #[error("the registry does not know the domain")]
    NotFound,
    /// 2201: the domain is sponsored by another registrar.
    #[error("the domain is sponsored by another registrar")]
    NotSponsor,
    /// 2306: a renew whose current expiry date is not the registry's (it was renewed already).
    #[error("the current expiry date does not match the registry's")]
    ExpiryMismatch,
    /// 2304: a status prohibits the operation (`serverTransferProhibited`, …).
    #[error("the registry prohibits it: {0}")]
    Prohibited(String),
    /// 2004/2306: a value the registry's policy refuses (a wrong or expired code, a period too
    /// long, an unknown tag).
    #[error("the registry refused: {0}")]
    Policy(String),
    /// No answer: the registry may or may not have acted; try again later.
    #[error("the registry is unavailable: {0}")]
    Unavailable(String),
}

/// The registry's operations, EPP-shaped. Every call is blocking (see the module comment).
pub trait Registry: Send + Sync {
    /// `<domain:check>`.
    fn check(&self, name: &str) -> Result<Availability, RegistryError>;
    /// `<domain:create>` for `years`. Asking again for a domain we created already (a retried
    /// job after a lost answer) answers its info instead of failing.
    fn create(
        &self,
        name: &str,
        years: u32,
        contacts: &Contacts,
        privacy: bool,
    ) -> Result<RegistryDomain, RegistryError>;
    /// `<domain:renew>` with `curExpDate`: extends only if `current_expiry` is the registry's,
    /// so a repeated renew cannot extend twice (`ExpiryMismatch`). Answers the new expiry.
    fn renew(
        &self,
        name: &str,
        current_expiry: chrono::NaiveDate,
        years: u32,
    ) -> Result<NaiveDateTime, RegistryError>;
    /// `<domain:info>`.
    fn info(&self, name: &str) -> Result<RegistryDomain, RegistryError>;
    /// `<domain:update>` of client statuses; answers the statuses after the change.
    fn update_statuses(
        &self,
        name: &str,
        add: &[EppStatus],
        remove: &[EppStatus],
    ) -> Result<Vec<EppStatus>, RegistryError>;
    /// `<domain:update>` of the contacts (the owner's email is WHOIS's from then on).
    fn update_contacts(&self, name: &str, contacts: &Contacts) -> Result<(), RegistryError>;
    /// WHOIS privacy (the contacts' `disclose` flags).
    fn set_privacy(&self, name: &str, enabled: bool) -> Result<(), RegistryError>;
    /// Sets the authorisation code we generated (registrar-issued extensions); the registry
    /// keeps only a salted hash, valid until `valid_until`. Replaces any earlier code.
    fn set_auth_code(
        &self,
        name: &str,
        code: &str,
        valid_until: NaiveDateTime,
    ) -> Result<(), RegistryError>;
    /// Asks the registry for a code it generates (registry-issued extensions, as .eu), valid
    /// until `valid_until`; the answer is the code, to be mailed and forgotten.
    fn generate_auth_code(
        &self,
        name: &str,
        valid_until: NaiveDateTime,
    ) -> Result<String, RegistryError>;
    /// Clears the code (and refuses transfers with it from then on).
    fn clear_auth_code(&self, name: &str) -> Result<(), RegistryError>;
    /// Releases the domain to another registrar's tag (.uk): it is theirs at once, for good.
    fn release(&self, name: &str, tag: &str) -> Result<(), RegistryError>;
    /// `<transfer op="reject">` of a pending transfer away from us.
    fn reject_transfer(&self, name: &str) -> Result<(), RegistryError>;
    /// `<poll op="req">`: the oldest unacknowledged message, if any.
    fn poll(&self) -> Result<Option<PollMessage>, RegistryError>;
    /// `<poll op="ack">`.
    fn ack(&self, message_id: &str) -> Result<(), RegistryError>;
}

/// The registry adapters this build knows (`LEMAN_REGISTRY`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RegistryKind {
    /// The built-in sandbox: its state in the database, nothing leaves the machine.
    #[default]
    Sandbox,
}

impl RegistryKind {
    pub fn parse(raw: &str) -> Result<Self, String> {
        match raw {
            "" | "sandbox" => Ok(Self::Sandbox),
            other => Err(format!("unknown registry `{other}`; known: sandbox")),
        }
    }
}

/// The adapter the configuration names.
pub fn from_config(
    config: &crate::config::Config,
    pool: crate::db::Pool,
    extensions: crate::extensions::Extensions,
) -> std::sync::Arc<dyn Registry> {
    match config.registry {
        RegistryKind::Sandbox => {
            std::sync::Arc::new(sandbox::SandboxRegistry::new(pool, extensions))
        }
    }
}

/// The sandbox's own database failing is, to its callers, the registry being unavailable.
impl From<diesel::result::Error> for RegistryError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Unavailable(e.to_string())
    }
}

/// How a registry's refusal reads to a caller of the API: 503 `registry_unavailable` (retry
/// after 30 s) when it did not answer, 409 otherwise with the registry's reason. Nothing of ours
/// changed in either case (registry calls happen before our writes).
pub fn problem(e: RegistryError) -> crate::error::AppError {
    use crate::error::AppError;
    match e {
        RegistryError::Unavailable(why) => {
            tracing::warn!("registry unavailable: {why}");
            AppError::unavailable(
                "registry_unavailable",
                "The domain registry did not answer; nothing was changed. Try again shortly.",
            )
            .retry_after(30)
        }
        RegistryError::NotAvailable => {
            AppError::conflict("domain_not_available", "The name is registered already.")
        }
        RegistryError::NotFound | RegistryError::NotSponsor => AppError::conflict(
            "not_at_registry",
            "The registry no longer lists this domain as ours.",
        ),
        RegistryError::ExpiryMismatch => AppError::conflict(
            "registry_expiry_mismatch",
            "The registry's expiry date differs from ours; it was renewed meanwhile.",
        ),
        RegistryError::Prohibited(status) => AppError::conflict(
            "registry_prohibited",
            format!("The registry prohibits it ({status})."),
        ),
        RegistryError::Policy(why) => {
            AppError::conflict("registry_refused", format!("The registry refused: {why}."))
        }
    }
}
