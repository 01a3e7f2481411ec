//! Outgoing webhooks: endpoints (the secret only at creation and rotation), their deliveries,
//! and the catalogue of event types.

use chrono::{DateTime, Utc};
use diesel::QueryResult;
use serde::Serialize;
use serde_json::{Map, Value, json};
use utoipa::ToSchema;

use super::utc;
use crate::catalog::Catalog;
use crate::db::DbConnection;
use crate::domain::orgs::Role;
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

impl EventTypeView {
    /// `components`: the spec's `components.schemas`, which the schema's `$defs` copy.
    pub fn new(t: WebhookEventType, components: &Map<String, Value>) -> Self {
        Self {
            kind: t,
            description: t.description().to_string(),
            schema: json_schema(t, components),
        }
    }
}

/// Every webhook event type.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"data": [{"type": "invoice.paid", "description": "An invoice was paid in full.", "schema": {"type": "object", "required": ["type", "timestamp", "data"], "properties": {"type": {"const": "invoice.paid"}, "timestamp": {"type": "string", "format": "date-time"}, "data": {"type": "object", "required": ["id", "organization_id"]}}}}]}))]
pub struct EventTypeList {
    pub data: Vec<EventTypeView>,
}

// ---------------------------------------------------------------------------------------------
// Deliveries' `data`: the event's resource as the API shows it.

/// What an event type's `data` is: the resource, serialised with the view its GET route
/// answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    /// `get_invoice`'s `InvoiceDetailView`.
    Invoice,
    /// `PaymentView`, as `pay_invoice`, `pay_order` and `top_up_prepaid_account` answer.
    Payment,
    /// The ledger movement, as `list_prepaid_transactions` shows it.
    PrepaidTransaction,
    /// `get_product`'s `ProductView`.
    Product,
    /// `get_domain`'s `DomainView` (its `transfer_out` summary included).
    Domain,
    /// One member as `list_members` shows it.
    Member,
    /// A member who left: the membership is gone, so what remains of it.
    FormerMember,
    /// `get_security_policy`'s `SecurityPolicyView`.
    SecurityPolicy,
}

impl Resource {
    pub fn of(t: WebhookEventType) -> Self {
        use WebhookEventType::*;
        match t {
            InvoiceIssued | InvoicePaid | InvoiceRefunded => Self::Invoice,
            PaymentSucceeded | PaymentFailed => Self::Payment,
            PrepaidCredited | PrepaidDebited => Self::PrepaidTransaction,
            ProductCreated | ProductRenewed | ProductExpired | ProductSuspended
            | ProductCancelled | RenewalFailed => Self::Product,
            DomainTransferOutCodeSent | DomainTransferOutRequested | DomainTransferOutCompleted => {
                Self::Domain
            }
            MemberJoined | MemberRoleChanged => Self::Member,
            MemberLeft => Self::FormerMember,
            OrganizationSecurityPolicyChanged => Self::SecurityPolicy,
        }
    }

    /// The name of the view's schema under `components.schemas`.
    pub fn schema_name(self) -> &'static str {
        match self {
            Self::Invoice => "InvoiceDetailView",
            Self::Payment => "PaymentView",
            Self::PrepaidTransaction => "PrepaidTransactionView",
            Self::Product => "ProductView",
            Self::Domain => "DomainView",
            Self::Member => "MemberView",
            Self::FormerMember => "FormerMemberView",
            Self::SecurityPolicy => "SecurityPolicyView",
        }
    }

    /// The read route whose answer `data` repeats.
    fn shown_by(self) -> &'static str {
        match self {
            Self::Invoice => "the invoice as `get_invoice` answers",
            Self::Payment => {
                "the payment as `pay_invoice`, `pay_order` and `top_up_prepaid_account` answer"
            }
            Self::PrepaidTransaction => {
                "the prepaid account's movement as `list_prepaid_transactions` lists it"
            }
            Self::Product => "the product as `get_product` answers",
            Self::Domain => "the domain as `get_domain` answers",
            Self::Member => "the member as `list_members` lists them",
            Self::FormerMember => "the member who left, as last known (the membership is gone)",
            Self::SecurityPolicy => "the security policy as `get_security_policy` answers",
        }
    }
}

/// A member who left or was removed: the account's name and address, and the role the
/// membership had (its permissions and join date went with it).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "user_id": "usr_01936d7a6b2f7c3e9d4a5b6c7d8e9f01", "email": "luca.rossi@example.ch",
    "first_name": "Luca", "last_name": "Rossi", "role": "member"
}))]
pub struct FormerMemberView {
    #[schema(pattern = r"^usr_[0-9a-f]{32}$")]
    pub user_id: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    /// The role the membership had.
    pub role: Role,
}

/// The facts of a change its resource does not show, per event type: `data.change`'s
/// properties, each with the activity detail it comes from and its schema (`$ref`s point at
/// `components.schemas`).
pub fn change_fields(t: WebhookEventType) -> Vec<(&'static str, &'static str, Value)> {
    use WebhookEventType::*;
    let string = |d: &str| json!({"type": "string", "description": d});
    let nullable = |d: &str| json!({"type": ["string", "null"], "description": d});
    let at = |d: &str| json!({"type": ["string", "null"], "format": "date-time", "description": d});
    match t {
        InvoiceIssued => vec![(
            "order_id",
            "order_id",
            string("The order the invoice bills."),
        )],
        InvoicePaid => vec![
            (
                "payment_id",
                "payment_id",
                string("The payment that paid it."),
            ),
            (
                "method",
                "method",
                string("How it was paid (a card's label, `prepaid`, `bank_transfer`)."),
            ),
        ],
        InvoiceRefunded => vec![
            (
                "amount",
                "amount",
                json!({"$ref": "#/components/schemas/Money", "description": "What this refund gave back."}),
            ),
            (
                "to",
                "to",
                string("Where the money went (`payment_method` or `prepaid`)."),
            ),
            (
                "provider_reference",
                "provider_reference",
                nullable("The provider's reference of the refund."),
            ),
            (
                "credit_note_id",
                "credit_note_id",
                string("The credit note issued for it."),
            ),
            (
                "credit_note_number",
                "credit_note_number",
                string("Its number."),
            ),
        ],
        PaymentSucceeded | PaymentFailed => vec![
            (
                "invoice_id",
                "invoice_id",
                nullable("The invoice it pays; `null` for a top-up."),
            ),
            (
                "purpose",
                "purpose",
                string("What it pays (`invoice`, `top_up`, …)."),
            ),
        ],
        PrepaidCredited => vec![
            (
                "pro_forma_id",
                "pro_forma_id",
                string("With a bank transfer quoting a pro forma: the pro forma."),
            ),
            (
                "pro_forma_number",
                "pro_forma_number",
                string("Its number."),
            ),
        ],
        PrepaidDebited | ProductCreated => vec![],
        ProductRenewed => vec![
            ("renewal_id", "renewal_id", string("The paid renewal.")),
            ("order_id", "order_id", string("Its order.")),
            ("period_start", "period_start", at("The new term's start.")),
            (
                "period_months",
                "period_months",
                json!({"type": "integer", "description": "The new term's length in months."}),
            ),
        ],
        ProductExpired | ProductSuspended | ProductCancelled => vec![
            (
                "included_products",
                "included_products",
                json!({"type": "array", "items": {"type": "string"}, "description": "The products of its bundle that followed it."}),
            ),
            (
                "cancellation_id",
                "cancellation_id",
                nullable("The cancellation that ended it, if any."),
            ),
        ],
        RenewalFailed => vec![
            (
                "renewal_id",
                "renewal_id",
                string("The renewal whose charge failed."),
            ),
            ("order_id", "order_id", string("Its order.")),
            (
                "failure",
                "failure",
                string("Why: the provider's code (`card_declined`, `insufficient_funds`, …)."),
            ),
            (
                "next_attempt_at",
                "next_attempt_at",
                at(
                    "When the charge is tried again; `null`: not again (auto-renewal was turned off).",
                ),
            ),
        ],
        DomainTransferOutCodeSent => vec![
            (
                "recipient",
                "recipient",
                string("Where the code went (the owner's address, masked)."),
            ),
            (
                "code_expires_at",
                "expires_at",
                at("Until when the code is valid."),
            ),
            (
                "unlocked",
                "unlocked",
                json!({"type": "boolean", "description": "The domain was unlocked first."}),
            ),
            (
                "privacy_disabled",
                "privacy_disabled",
                json!({"type": "boolean", "description": "WHOIS privacy was turned off first."}),
            ),
        ],
        DomainTransferOutRequested | DomainTransferOutCompleted => vec![
            (
                "gaining_registrar",
                "gaining_registrar",
                nullable("The registrar that asked for the domain."),
            ),
            (
                "completes_at",
                "completes_at",
                at("When the transfer completes unless refused."),
            ),
        ],
        MemberJoined => vec![
            (
                "invitation_id",
                "invitation_id",
                string("The invitation accepted."),
            ),
            (
                "invited_by",
                "invited_by",
                string("Who invited them (a user id)."),
            ),
        ],
        MemberLeft => vec![
            (
                "reason",
                "reason",
                json!({"type": "string", "enum": ["left", "removed"], "description": "`left`: they left; `removed`: a member holding `users` removed them."}),
            ),
            (
                "removed_by",
                "removed_by",
                nullable("Who removed them (a user id); `null` when they left."),
            ),
            (
                "invitations_voided",
                "invitations_voided",
                json!({"type": "integer", "description": "Their pending invitations voided."}),
            ),
        ],
        MemberRoleChanged => vec![
            (
                "previous_role",
                "previous_role",
                json!({"$ref": "#/components/schemas/Role", "description": "The role before."}),
            ),
            (
                "previous_permissions",
                "previous_permissions",
                json!({"type": "array", "items": {"$ref": "#/components/schemas/Permission"}, "description": "The permissions held before."}),
            ),
            (
                "invitations_voided",
                "invitations_voided",
                json!({"type": "integer", "description": "Invitations they sent that they could no longer send, voided."}),
            ),
        ],
        OrganizationSecurityPolicyChanged => vec![
            (
                "previous_require_two_factor",
                "previous",
                json!({"type": "boolean", "description": "`require_two_factor` before."}),
            ),
            (
                "members_notified",
                "members_notified",
                json!({"type": "integer", "description": "Members without two-factor authentication told by mail."}),
            ),
        ],
    }
}

/// The part of `data` every event type shares (`components.schemas.WebhookEventData`).
pub fn common_data_schema() -> Value {
    json!({
        "type": "object",
        "description": "What every event's `data` has besides its resource's fields.",
        "required": ["id", "organization_id", "change"],
        "properties": {
            "id": {"type": "string", "pattern": "^[a-z]+_[0-9a-f]{32}$", "description": "The resource's id (a member's user id; the organisation's id for its security policy)."},
            "organization_id": {"type": "string", "pattern": "^org_[0-9a-f]{32}$", "description": "The organisation the event belongs to."},
            "change": {"type": "object", "additionalProperties": true, "description": "The facts of the change its resource does not show (`{}` when none; each event type lists its own); a fact the change did not record is absent."},
        },
    })
}

/// The name of `t`'s envelope under `components.schemas` (`invoice.paid` → `InvoicePaidEvent`).
pub fn envelope_name(t: WebhookEventType) -> String {
    let mut name: String = t.as_str().split(['.', '_']).map(upper_first).collect();
    name.push_str("Event");
    name
}

/// The schema of `data` for event type `t` (`$ref`s to `components.schemas`): the view, with
/// `id`, `organization_id` and `change`.
pub fn data_schema(t: WebhookEventType) -> Value {
    let resource = Resource::of(t);
    let mut change = Map::new();
    for (key, _, schema) in change_fields(t) {
        change.insert(key.into(), schema);
    }
    json!({
        "description": format!("{}, with `id`, `organization_id` and `change`.", upper_first(resource.shown_by())),
        "allOf": [
            {"$ref": format!("#/components/schemas/{}", resource.schema_name())},
            {"$ref": "#/components/schemas/WebhookEventData"},
            {"type": "object", "properties": {"change": {"type": "object", "properties": change}}},
        ],
    })
}

fn upper_first(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

/// The schema of a delivery's body for `t` (`$ref`s to `components.schemas`; the spec keeps
/// it there as `envelope_name(t)`).
pub fn envelope_schema(t: WebhookEventType) -> Value {
    json!({
        "type": "object",
        "description": t.description(),
        "required": ["type", "timestamp", "data"],
        "properties": {
            "type": {"type": "string", "const": t.as_str()},
            "timestamp": {"type": "string", "format": "date-time", "description": "When the change happened."},
            "data": data_schema(t),
        },
        "additionalProperties": false,
    })
}

/// The body's schema for `t` as a standalone JSON Schema (draft 2020-12): the component
/// schemas it names are copied under `$defs` (from `components`, the spec's
/// `components.schemas`) and the references point there.
pub fn json_schema(t: WebhookEventType, components: &Map<String, Value>) -> Value {
    let mut schema = envelope_schema(t);
    let mut defs = Map::new();
    let mut todo = vec![];
    collect_refs(&schema, &mut todo);
    while let Some(name) = todo.pop() {
        if defs.contains_key(&name) {
            continue;
        }
        if let Some(s) = components.get(&name) {
            collect_refs(s, &mut todo);
            defs.insert(name, s.clone());
        }
    }
    let mut defs = Value::Object(defs);
    rewrite_refs(&mut schema);
    rewrite_refs(&mut defs);
    let map = schema.as_object_mut().expect("an object");
    map.insert(
        "$schema".into(),
        "https://json-schema.org/draft/2020-12/schema".into(),
    );
    map.insert("title".into(), t.as_str().into());
    map.insert("$defs".into(), defs);
    schema
}

const COMPONENT_REF: &str = "#/components/schemas/";

fn collect_refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get("$ref")
                && let Some(name) = r.strip_prefix(COMPONENT_REF)
            {
                out.push(name.to_string());
            }
            map.values().for_each(|v| collect_refs(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

fn rewrite_refs(v: &mut Value) {
    match v {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get_mut("$ref")
                && let Some(name) = r.strip_prefix(COMPONENT_REF)
            {
                *r = format!("#/$defs/{name}");
            }
            map.values_mut().for_each(rewrite_refs);
        }
        Value::Array(items) => items.iter_mut().for_each(rewrite_refs),
        _ => {}
    }
}

/// `data` for an event of type `t` in organisation `org_id`: its resource loaded with `conn`
/// (inside the change's transaction, so as the change left it; only from `org_id`) and
/// serialised with the view its GET route answers with, plus `id`, `organization_id` and
/// `change` (the facts of `facts`, the event's details, that `change_fields` names). `id`
/// names the resource when the details do not (a member's user id, a product's id).
/// A resource that cannot be found any more still gives `id`, `organization_id` and `change`.
pub fn event_data(
    conn: &mut DbConnection,
    catalog: &Catalog,
    org_id: &str,
    t: WebhookEventType,
    id: Option<&str>,
    facts: &Map<String, Value>,
) -> QueryResult<Value> {
    use crate::models::{
        credit_notes, domains, invoices, memberships, orders, organizations, payments, prepaid,
        products, users,
    };
    let fact = |key: &str| facts.get(key).and_then(Value::as_str).map(str::to_string);
    let id = id.map(str::to_string);
    let resource = Resource::of(t);
    let (id, view): (Option<String>, Option<Value>) = match resource {
        Resource::Invoice => {
            let mut id = id.or_else(|| fact("invoice_id"));
            if id.is_none()
                && let Some(order) = fact("order_id")
            {
                id = orders::find(conn, org_id, &order)?.map(|o| o.invoice_id);
            }
            let view = match id.as_deref() {
                Some(id) => match invoices::find(conn, org_id, id)? {
                    Some(i) => {
                        let lines = invoices::lines(conn, &i.id)?;
                        let notes = credit_notes::of_invoice(conn, &i.id)?;
                        Some(to_value(super::invoices::InvoiceDetailView::new(
                            &i, &lines, &notes,
                        )))
                    }
                    None => None,
                },
                None => None,
            };
            (id, view)
        }
        Resource::Payment => {
            let id = id.or_else(|| fact("payment_id"));
            let view = match id.as_deref() {
                Some(id) => payments::find(conn, id)?
                    .filter(|p| p.organization_id == org_id)
                    .map(|p| to_value(super::payments::PaymentView::from(&p))),
                None => None,
            };
            (id, view)
        }
        Resource::PrepaidTransaction => {
            let row = match (fact("transaction_id"), fact("payment_id")) {
                (Some(tx), _) => prepaid::find(conn, org_id, &tx)?,
                (None, Some(payment)) => prepaid::credit_of_payment(conn, org_id, &payment)?,
                (None, None) => None,
            };
            let id = row
                .as_ref()
                .map(|r| r.id.clone())
                .or(id)
                .or_else(|| fact("transaction_id"));
            let view = row.map(|r| to_value(super::prepaid::PrepaidTransactionView::from(&r)));
            (id, view)
        }
        Resource::Product => {
            let id = id.or_else(|| fact("product_id"));
            let view = match id.as_deref() {
                Some(id) => products::find(conn, org_id, id)?
                    .map(|p| to_value(super::products::ProductView::new(&p, catalog))),
                None => None,
            };
            (id, view)
        }
        Resource::Domain => {
            let id = id.or_else(|| fact("domain_id"));
            let view = match id.as_deref() {
                Some(id) => match domains::find(conn, org_id, id)? {
                    Some(d) => {
                        let auto =
                            domains::auto_renew_of(conn, std::slice::from_ref(&d.product_id))?;
                        let auto = auto.get(&d.product_id).copied().unwrap_or(false);
                        Some(to_value(super::domains::DomainView::new(
                            &d,
                            auto,
                            &catalog.extensions,
                        )))
                    }
                    None => None,
                },
                None => None,
            };
            (id, view)
        }
        Resource::Member => {
            let view = match id.as_deref() {
                Some(user) => memberships::find_member(conn, org_id, user)?
                    .map(|r| to_value(super::orgs::MemberView::from(&r))),
                None => None,
            };
            (id, view)
        }
        Resource::FormerMember => {
            let role = fact("role").and_then(|r| Role::parse(&r));
            let view = match (id.as_deref(), role) {
                (Some(user), Some(role)) => users::find(conn, user)?.map(|u| {
                    to_value(FormerMemberView {
                        user_id: u.id,
                        email: u.email,
                        first_name: u.first_name,
                        last_name: u.last_name,
                        role,
                    })
                }),
                _ => None,
            };
            (id, view)
        }
        Resource::SecurityPolicy => {
            let view = organizations::find(conn, org_id)?.map(|o| {
                to_value(super::orgs::SecurityPolicyView {
                    require_two_factor: o.require_two_factor,
                })
            });
            (Some(org_id.to_string()), view)
        }
    };
    let mut data = match view {
        Some(Value::Object(map)) => map,
        _ => {
            tracing::warn!(event_type = %t, id = ?id, "webhook: the event's resource is gone");
            Map::new()
        }
    };
    if let Some(id) = id {
        data.entry("id").or_insert(id.into());
    }
    data.insert("organization_id".into(), org_id.into());
    let mut change = Map::new();
    for (key, detail, _) in change_fields(t) {
        if let Some(v) = facts.get(detail) {
            change.insert(key.into(), v.clone());
        }
    }
    data.insert("change".into(), Value::Object(change));
    Ok(Value::Object(data))
}

fn to_value(view: impl Serialize) -> Value {
    serde_json::to_value(view).expect("a view serialises")
}
