use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::utc;
use crate::domain::events::ActivityKind;
use crate::models::activities::Activity;

/// One recorded change: who did what, to whom, where, and from which connection.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "act_01936d7a6b2f7c3e9d4a5b6c7d8e9f00", "action": "token.created",
    "actor_user_id": "usr_01936d7a6b2f7c3e9d4a5b6c7d8e9f01", "actor_name": null, "subject_user_id": null,
    "organization_id": null, "product_id": null,
    "details": {"token_id": "tok_01936d7a6b2f7c3e9d4a5b6c7d8e9f02", "kind": "personal", "scopes": ["account:read"], "expires_at": null},
    "ip": "203.0.113.7", "user_agent": "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "created_at": "2026-11-26T09:00:00Z"
}))]
pub struct ActivityView {
    pub id: String,
    /// What happened, one of `GET /v1/activity-kinds` (`<object>.<verb>`). A record keeps the
    /// name it was written with, so it is shown as stored.
    #[schema(value_type = ActivityKind)]
    pub action: String,
    /// Who did it (a user id, or a pseudonym once that account was deleted).
    pub actor_user_id: Option<String>,
    /// Who did it when no signed-in person did: Leman itself (`Leman (expire_orders)`, a job or
    /// the payment provider's webhook) or an operator's command (`operator (billing refund)`).
    pub actor_name: Option<String>,
    /// Another person it affected, if any.
    pub subject_user_id: Option<String>,
    pub organization_id: Option<String>,
    pub product_id: Option<String>,
    /// Facts of the change: a JSON object whose keys depend on the `action` (ids, amounts,
    /// old and new values); `{}` when there are none.
    #[schema(value_type = HashMap<String, serde_json::Value>, example = json!({"token_id": "tok_01936d7a6b2f7c3e9d4a5b6c7d8e9f02", "kind": "personal", "scopes": ["account:read"]}))]
    pub details: serde_json::Value,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<Activity> for ActivityView {
    fn from(a: Activity) -> Self {
        let details = serde_json::from_str::<serde_json::Value>(&a.details)
            .ok()
            .filter(serde_json::Value::is_object)
            .unwrap_or_else(|| serde_json::json!({}));
        Self {
            id: a.id,
            action: a.action,
            actor_user_id: a.actor_user_id,
            actor_name: a.actor_name,
            subject_user_id: a.subject_user_id,
            organization_id: a.organization_id,
            product_id: a.product_id,
            details,
            ip: a.ip,
            user_agent: a.user_agent,
            created_at: utc(a.created_at),
        }
    }
}

/// A page of activity records, newest first.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"data": [{
    "id": "act_01936d7a6b2f7c3e9d4a5b6c7d8e9f00", "action": "login.succeeded",
    "actor_user_id": "usr_01936d7a6b2f7c3e9d4a5b6c7d8e9f01", "actor_name": null, "subject_user_id": null,
    "organization_id": null, "product_id": null,
    "details": {"session_id": "ses_01936d7a6b2f7c3e9d4a5b6c7d8e9f03", "amr": ["pwd"]},
    "ip": "203.0.113.7", "user_agent": "curl/8.5.0", "created_at": "2026-11-26T09:00:00Z"
}], "next_cursor": "MTc2NDE0NzYwMDAwMDAwMHxhY3RfMDE5MzZkN2E2YjJmN2MzZTlkNGE1YjZjN2Q4ZTlmMDA"}))]
pub struct ActivityList {
    pub data: Vec<ActivityView>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// A kind of activity Leman records.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"kind": "token.created", "description": "A personal API token was created.", "in_organisation": false}))]
pub struct ActivityKindView {
    pub kind: ActivityKind,
    /// What a change of this kind is, in one line.
    pub description: &'static str,
    /// Whether it concerns an organisation (its activity log) rather than only a person's account.
    pub in_organisation: bool,
}

impl From<ActivityKind> for ActivityKindView {
    fn from(kind: ActivityKind) -> Self {
        Self {
            kind,
            description: kind.description(),
            in_organisation: kind.in_organisation(),
        }
    }
}

/// Every kind of activity, in a fixed order.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"data": [
    {"kind": "account.deleted", "description": "A person deleted their account.", "in_organisation": false},
    {"kind": "invoice.paid", "description": "An invoice was paid in full.", "in_organisation": true}
]}))]
pub struct ActivityKindList {
    pub data: Vec<ActivityKindView>,
}
