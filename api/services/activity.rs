//! Writes the activity record: exactly one row per state-changing request, in its transaction.

use diesel::QueryResult;

use crate::db::{self, DbConnection};
use crate::http::meta::RequestMeta;
use crate::models::activities::{self, Activity};

/// One recorded change. `actor` did it; `subject` is another person it affected.
#[derive(Debug, Clone, Default)]
pub struct Event<'a> {
    pub action: &'a str,
    pub actor: Option<&'a str>,
    pub actor_name: Option<String>,
    pub subject: Option<&'a str>,
    pub organization: Option<&'a str>,
    pub product: Option<&'a str>,
    pub details: serde_json::Value,
}

impl<'a> Event<'a> {
    pub fn new(action: &'a str, actor: &'a str) -> Self {
        Self {
            action,
            actor: Some(actor),
            details: serde_json::json!({}),
            ..Default::default()
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
}

pub fn record(conn: &mut DbConnection, meta: &RequestMeta, event: Event<'_>) -> QueryResult<()> {
    activities::insert(
        conn,
        &Activity {
            id: db::new_id("act"),
            actor_user_id: event.actor.map(str::to_string),
            subject_user_id: event.subject.map(str::to_string),
            organization_id: event.organization.map(str::to_string),
            product_id: event.product.map(str::to_string),
            action: event.action.to_string(),
            details: event.details.to_string(),
            ip: meta.ip.clone(),
            user_agent: meta.user_agent.clone(),
            actor_name: event.actor_name,
            created_at: db::now(),
        },
    )
    .map(|_| ())
}
