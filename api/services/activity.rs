//! Writes the activity record: exactly one row per state-changing request, in its transaction.
//! Each record joins a hash chain (its organisation's, or its user's outside any organisation):
//! it stores the previous record's hash and the hash of its own canonical content, which holds
//! only pseudonymous ids and non-personal fields, so erasing a person's data never breaks it.

mod account;
mod auto_renewal;
mod billing;
mod domain_provisioning;
mod domains;
mod lifecycle;
mod orgs;
mod product_changes;
mod renewals;
mod transfer_out;
mod webhooks;

pub use account::SignedUpVia;

use diesel::QueryResult;

use crate::db::{self, DbConnection};
use crate::domain::actor::Origin;
use crate::domain::events::ActivityKind;
use crate::models::activities::{self, Activity};

/// One recorded change. `actor` did it; `subject` is another person it affected.
#[derive(Debug, Clone)]
pub struct Event<'a> {
    pub action: ActivityKind,
    pub actor: Option<&'a str>,
    pub actor_name: Option<String>,
    pub subject: Option<&'a str>,
    pub organization: Option<&'a str>,
    pub product: Option<&'a str>,
    pub details: serde_json::Value,
}

impl<'a> Event<'a> {
    pub fn new(action: ActivityKind, actor: &'a str) -> Self {
        Self::by(action, Some(actor))
    }

    /// A change with no user behind it (a job, the provider): `actor` None.
    pub fn by(action: ActivityKind, actor: Option<&'a str>) -> Self {
        Self {
            action,
            actor,
            actor_name: None,
            subject: None,
            organization: None,
            product: None,
            details: serde_json::json!({}),
        }
    }

    pub fn details(mut self, details: serde_json::Value) -> Self {
        self.details = details;
        self
    }

    pub fn subject(mut self, subject: &'a str) -> Self {
        self.subject = Some(subject);
        self
    }

    pub fn named(mut self, name: String) -> Self {
        self.actor_name = Some(name);
        self
    }

    pub fn organization(mut self, organization: &'a str) -> Self {
        self.organization = Some(organization);
        self
    }
}

/// The pseudonymous form of a user id kept in the chained content: it survives the id being
/// replaced by a pseudonym when the account is deleted.
pub fn digest(user_id: &str) -> String {
    crate::auth::secrets::hash(&format!("leman:user:{user_id}"))
}

/// The chain a record joins: its organisation's; else its actor's (or subject's) own.
fn chain_of(event: &Event<'_>) -> String {
    match (event.organization, event.actor.or(event.subject)) {
        (Some(org), _) => org.to_string(),
        (None, Some(user)) => format!("usr:{}", &digest(user)[..32]),
        (None, None) => "system".to_string(),
    }
}

/// The hash of a record: SHA-256 over the previous hash and the canonical content (a JSON array
/// of the chained fields in a fixed order; timestamps as microseconds).
pub fn hash_of(a: &Activity) -> String {
    let canonical = serde_json::json!([
        a.id,
        a.chain_id,
        a.seq,
        a.action,
        a.actor_digest,
        a.subject_digest,
        a.organization_id,
        a.product_id,
        a.details,
        a.created_at.and_utc().timestamp_micros(),
    ]);
    crate::auth::secrets::hash(&format!(
        "{}\n{canonical}",
        a.prev_hash.as_deref().unwrap_or("")
    ))
}

pub fn record(conn: &mut DbConnection, meta: &Origin, event: Event<'_>) -> QueryResult<()> {
    // The outgoing webhooks derive from the same event, in the same transaction (the outbox).
    crate::services::outgoing_webhooks::publish_activity(conn, &event)?;
    let chain = chain_of(&event);
    let (seq, prev_hash) = activities::advance_chain(conn, &chain)?;
    let mut activity = Activity {
        id: db::new_id("act"),
        actor_user_id: event.actor.map(str::to_string),
        subject_user_id: event.subject.map(str::to_string),
        organization_id: event.organization.map(str::to_string),
        product_id: event.product.map(str::to_string),
        action: event.action.as_str().to_string(),
        details: event.details.to_string(),
        ip: meta.ip.clone(),
        user_agent: meta.user_agent.clone(),
        actor_name: event.actor_name.or_else(|| meta.actor_name()),
        created_at: db::now(),
        chain_id: Some(chain.clone()),
        seq: Some(seq),
        actor_digest: event.actor.map(digest),
        subject_digest: event.subject.map(digest),
        prev_hash: Some(prev_hash),
        hash: None,
    };
    let hash = hash_of(&activity);
    activity.hash = Some(hash.clone());
    activities::insert(conn, &activity)?;
    activities::set_chain_head(conn, &chain, &hash)?;
    Ok(())
}
