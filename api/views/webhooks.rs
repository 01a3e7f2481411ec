//! Outgoing webhooks: endpoints (the secret only at creation and rotation), their deliveries,
//! and the catalogue of event types.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::utc;
use crate::domain::webhooks::{DeliveryStatus, WebhookEventType};
use crate::models::webhook_deliveries::WebhookDelivery;
use crate::models::webhook_endpoints::WebhookEndpoint;

/// An endpoint receiving the organisation's events, signed after Standard Webhooks.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "whe_01936d7a6b2f7c3e9d4a5b6c7d8e9f00", "organization_id": "org_01936d7a6b2f7c3e9d4a5b6c7d8e9f00",
    "url": "https://hooks.example.com/leman", "description": "Accounting sync",
    "event_types": ["invoice.paid", "invoice.refunded"], "enabled": true, "disabled_reason": null,
    "failing_since": null, "previous_secret_expires_at": null,
    "created_at": "2026-12-05T09:00:00Z", "updated_at": "2026-12-05T09:00:00Z"
}))]
pub struct WebhookEndpointView {
    pub id: String,
    pub organization_id: String,
    /// Where deliveries are POSTed (HTTPS).
    pub url: String,
    pub description: String,
    /// The event types it receives.
    pub event_types: Vec<WebhookEventType>,
    /// Disabled endpoints receive nothing (deliveries due meanwhile are given up).
    pub enabled: bool,
    /// Why Leman disabled it (every delivery failed for 5 days); `null` otherwise.
    pub disabled_reason: Option<String>,
    /// Since when its deliveries have been failing; `null` when the last one succeeded.
    pub failing_since: Option<DateTime<Utc>>,
    /// After a rotation, until when the previous secret signs too; `null` otherwise.
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<&WebhookEndpoint> for WebhookEndpointView {
    fn from(e: &WebhookEndpoint) -> Self {
        Self {
            id: e.id.clone(),
            organization_id: e.organization_id.clone(),
            url: e.url.clone(),
            description: e.description.clone(),
            event_types: e
                .event_type_names()
                .iter()
                .filter_map(|t| WebhookEventType::parse(t))
                .collect(),
            enabled: e.enabled,
            disabled_reason: e.disabled_reason.clone(),
            failing_since: e.failing_since.map(utc),
            previous_secret_expires_at: e.previous_secret_expires_at.map(utc),
            created_at: utc(e.created_at),
            updated_at: utc(e.updated_at),
        }
    }
}

/// An endpoint with its signing secret: shown at creation and at rotation, never again.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "whe_01936d7a6b2f7c3e9d4a5b6c7d8e9f00", "organization_id": "org_01936d7a6b2f7c3e9d4a5b6c7d8e9f00",
    "url": "https://hooks.example.com/leman", "description": "Accounting sync",
    "event_types": ["invoice.paid", "invoice.refunded"], "enabled": true, "disabled_reason": null,
    "failing_since": null, "previous_secret_expires_at": null,
    "created_at": "2026-12-05T09:00:00Z", "updated_at": "2026-12-05T09:00:00Z", "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}))]
pub struct WebhookEndpointWithSecret {
    #[serde(flatten)]
    pub endpoint: WebhookEndpointView,
    /// `whsec_` + base64 of 32 random bytes: verify deliveries with it (Standard Webhooks).
    #[schema(example = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")]
    pub secret: String,
}

impl From<&WebhookEndpoint> for WebhookEndpointWithSecret {
    fn from(e: &WebhookEndpoint) -> Self {
        Self {
            endpoint: e.into(),
            secret: e.secret.clone(),
        }
    }
}

/// A page of the organisation's endpoints, oldest first.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"data": [{
    "id": "whe_01936d7a6b2f7c3e9d4a5b6c7d8e9f00", "organization_id": "org_01936d7a6b2f7c3e9d4a5b6c7d8e9f00",
    "url": "https://hooks.example.com/leman", "description": "Accounting sync",
    "event_types": ["invoice.paid", "invoice.refunded"], "enabled": true, "disabled_reason": null,
    "failing_since": null, "previous_secret_expires_at": null,
    "created_at": "2026-12-05T09:00:00Z", "updated_at": "2026-12-05T09:00:00Z"}], "next_cursor": null}))]
pub struct WebhookEndpointList {
    pub data: Vec<WebhookEndpointView>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// One event's delivery to one endpoint, with its last attempt.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "whd_01936d7a6b2f7c3e9d4a5b6c7d8e9f00", "webhook_endpoint_id": "whe_01936d7a6b2f7c3e9d4a5b6c7d8e9f00",
    "event_id": "msg_01936d7a6b2f7c3e9d4a5b6c7d8e9f00", "event_type": "invoice.paid", "status": "pending",
    "attempts": 2, "last_status_code": 503, "last_duration_ms": 84, "last_error": "the endpoint answered 503",
    "last_attempt_at": "2026-12-05T09:00:05Z", "next_attempt_at": "2026-12-05T09:05:05Z",
    "created_at": "2026-12-05T09:00:00Z"
}))]
pub struct WebhookDeliveryView {
    pub id: String,
    pub webhook_endpoint_id: String,
    /// The `webhook-id` header: the same on every attempt (deduplicate on it).
    pub event_id: String,
    pub event_type: WebhookEventType,
    /// `pending` (an attempt is due at `next_attempt_at`), `succeeded`, or `failed` (given up).
    pub status: DeliveryStatus,
    /// Attempts made so far.
    pub attempts: i32,
    /// The HTTP status of the last attempt; `null` when it got no answer (or none yet).
    pub last_status_code: Option<i32>,
    /// How long the last attempt took, in milliseconds.
    pub last_duration_ms: Option<i64>,
    /// Why the last attempt failed; `null` when it succeeded or none was made.
    pub last_error: Option<String>,
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// When the next attempt is due; `null` when none is.
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl From<&WebhookDelivery> for WebhookDeliveryView {
    fn from(d: &WebhookDelivery) -> Self {
        Self {
            id: d.id.clone(),
            webhook_endpoint_id: d.endpoint_id.clone(),
            event_id: d.event_id.clone(),
            event_type: WebhookEventType::parse(&d.event_type)
                .unwrap_or(WebhookEventType::InvoiceIssued),
            status: DeliveryStatus::parse(&d.status).unwrap_or(DeliveryStatus::Failed),
            attempts: d.attempts,
            last_status_code: d.last_status_code,
            last_duration_ms: d.last_duration_ms,
            last_error: d.last_error.clone(),
            last_attempt_at: d.last_attempt_at.map(utc),
            next_attempt_at: d.next_attempt_at.map(utc),
            created_at: utc(d.created_at),
        }
    }
}

/// A page of an endpoint's deliveries, newest first.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"data": [{
    "id": "whd_01936d7a6b2f7c3e9d4a5b6c7d8e9f00", "webhook_endpoint_id": "whe_01936d7a6b2f7c3e9d4a5b6c7d8e9f00",
    "event_id": "msg_01936d7a6b2f7c3e9d4a5b6c7d8e9f00", "event_type": "invoice.paid", "status": "pending",
    "attempts": 2, "last_status_code": 503, "last_duration_ms": 84, "last_error": "the endpoint answered 503",
    "last_attempt_at": "2026-12-05T09:00:05Z", "next_attempt_at": "2026-12-05T09:05:05Z",
    "created_at": "2026-12-05T09:00:00Z"
}], "next_cursor": null}))]
pub struct WebhookDeliveryList {
    pub data: Vec<WebhookDeliveryView>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// A webhook event type, with the JSON schema of its deliveries' body.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"type": "invoice.paid", "description": "An invoice was paid in full.", "schema": {"type": "object"}}))]
pub struct EventTypeView {
    #[serde(rename = "type")]
    pub kind: WebhookEventType,
    pub description: String,
    /// JSON schema (draft 2020-12) of the body `{"type","timestamp","data"}`.
    #[schema(value_type = std::collections::HashMap<String, serde_json::Value>)]
    pub schema: serde_json::Value,
}

impl From<WebhookEventType> for EventTypeView {
    fn from(t: WebhookEventType) -> Self {
        Self {
            kind: t,
            description: t.description().to_string(),
            schema: t.json_schema(),
        }
    }
}

/// Every webhook event type.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"data": [{"type": "invoice.paid", "description": "An invoice was paid in full.", "schema": {"type": "object", "required": ["type", "timestamp", "data"], "properties": {"type": {"const": "invoice.paid"}, "timestamp": {"type": "string", "format": "date-time"}, "data": {"type": "object", "required": ["id", "organization_id"]}}}}]}))]
pub struct EventTypeList {
    pub data: Vec<EventTypeView>,
}
