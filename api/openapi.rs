//! The OpenAPI document: info, security schemes, tags and shared schemas here; paths come from
//! the routes themselves (utoipa-actix-web), so code and spec cannot drift.

use actix_web::App;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::AppExt;

use crate::error::{FieldError, Problem};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Leman API",
        description = "The API of the Leman customer Manager: accounts and security, organisations and roles, products, invoices, payments, renewals and domains.\n\nErrors are RFC 9457 `application/problem+json` bodies with a stable `code`. Lists use cursor pagination (`limit`, `cursor`, `next_cursor`). Money is `{\"amount\": \"12.50\", \"currency\": \"CHF\"}`. POSTs accept an `Idempotency-Key` header (kept 24 hours).",
        license(name = "Apache-2.0 OR MIT", identifier = "Apache-2.0 OR MIT"),
    ),
    modifiers(&SecuritySchemes),
    components(schemas(Problem, FieldError)),
    tags(
        (name = "operations", description = "Liveness, readiness and metrics, for operators"),
        (name = "meta", description = "The API describing itself"),
        (name = "accounts", description = "Sign-up, email verification and the caller's own account"),
        (name = "auth", description = "Signing in and out, sessions and their tokens"),
        (name = "newsletters", description = "Newsletter topics and the caller's subscriptions"),
        (name = "feedback", description = "Feedback and suggestions per service and language"),
        (name = "tokens", description = "Personal and application tokens for apps and integrations"),
        (name = "activities", description = "The caller's activity log"),
        (name = "security", description = "The connection log (signed-in devices), login alerts and the lock threshold"),
        (name = "two_factor", description = "Two-factor authentication (TOTP) and its recovery codes"),
        (name = "organizations", description = "Organisations, their security policy and their deletion. Routes under `/v1/orgs/{org_id}` declare what they need as `x-leman-permission`: `member` (any member), `admin` (admins and legal representatives), or a permission (`accounting`, `products`, `domains`, `users`) that admins and legal representatives always hold; `+` joins two that are both needed (`products+accounting`). Another organisation's ids answer 404. A member without two-factor authentication while an organisation of theirs requires it gets 403 `two_factor_required` everywhere but signing in and out, reading `/v1/me` and `/v1/me/organizations`, setting 2FA up and leaving."),
        (name = "members", description = "Members of an organisation, their roles and permissions, and invitations"),
        (name = "billing", description = "The catalogue, products, orders, invoices, payment methods, payments and the prepaid account. Money is `{\"amount\": \"12.50\", \"currency\": \"CHF\"}` in the organisation's currency; every POST that moves money takes an `Idempotency-Key`."),
        (name = "domains", description = "Domains (R47–R52): availability, registration through the registry (a paid `domain-*` order names its domain and is `provisioning` until the registry confirmed it), the organisation's domains, their contacts (a change of owner confirmed by mail by both owners), WHOIS privacy, the registrar's lock, and transfers out: a transfer code goes only to the owner's email in the registry's WHOIS record and never appears in any answer."),
        (name = "tasks", description = "Tasks (issue 13): long work such as an invoice export answers 202 with `Location: /v1/tasks/{task_id}` and runs in the background; its requester alone reads it (`queued`, `running`, `succeeded` with a file to download for 7 days, or `failed`) and is mailed the download link."),
        (name = "webhooks", description = "Outgoing webhooks (issue 14): an organisation's endpoints receive its events signed after Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`), retried for 3 days; `GET /v1/event-types` lists the event types with the JSON schema of each. See docs/webhooks.md."),
        (name = "renewals", description = "Renewals (R31, R33–R36): the products to renew with every period they can be renewed for and its price, renewing several products on one order and one invoice (each line's period starting at the product's current expiry), each term paid exactly once, and pro forma invoices for renewals paid by bank transfer (numbered `PF-YYYY-NNNNNN` outside the invoice sequence, of no legal value)."),
    )
)]
pub struct ApiDoc;

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        let components = api.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer_jwt",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("Access token from `POST /v1/auth/login` (15 minutes), renewed with the refresh token."))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "personal_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("lmn_…")
                    .description(Some("A personal or application token (`lmn_…`) with scopes; never allowed sensitive actions."))
                    .build(),
            ),
        );
    }
}

/// The whole document, as the server serves it.
pub fn build() -> utoipa::openapi::OpenApi {
    let (_, api) = App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(crate::routes::configure)
        .split_for_parts();
    api
}

/// The document as committed in `openapi/openapi.json` (pretty, trailing newline).
pub fn to_json(api: &utoipa::openapi::OpenApi) -> String {
    let mut doc = serde_json::to_value(api).expect("the OpenAPI document serialises");
    declare_org_scopes(&mut doc);
    declare_idempotency(&mut doc);
    declare_two_factor_requirement(&mut doc);
    crate::openapi_quality::apply_before_nul(&mut doc);
    forbid_nul(&mut doc);
    crate::openapi_links::declare(&mut doc);
    crate::openapi_quality::apply_after_nul(&mut doc);
    // Last: the passes above rebuild `components.parameters` from the paths.
    declare_webhooks(&mut doc);
    let mut json = serde_json::to_string_pretty(&doc).expect("the OpenAPI document serialises");
    json.push('\n');
    json
}

/// A route under `/v1/orgs/{org_id}` names its requirement once (`http::org::Requirement`): its
/// `x-leman-scope` becomes the `personal_token` scope of the operation's security.
fn declare_org_scopes(doc: &mut serde_json::Value) {
    let Some(paths) = doc.get_mut("paths").and_then(|p| p.as_object_mut()) else {
        return;
    };
    for op in paths
        .values_mut()
        .filter_map(|item| item.as_object_mut())
        .flat_map(|item| item.values_mut())
        .filter_map(|op| op.as_object_mut())
    {
        let Some(scope) = op.remove("x-leman-scope") else {
            continue;
        };
        let Some(security) = op.get_mut("security").and_then(|s| s.as_array_mut()) else {
            continue;
        };
        for requirement in security.iter_mut().filter_map(|r| r.as_object_mut()) {
            if let Some(scopes) = requirement.get_mut("personal_token") {
                *scopes = serde_json::Value::Array(vec![scope.clone()]);
            }
        }
    }
}

/// No string may hold a NUL character (PostgreSQL text cannot store one, so `http::Json` and
/// `http::Query` refuse it everywhere): say so on every free string of the document.
fn forbid_nul(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(map) => {
            let is_string = match map.get("type") {
                Some(serde_json::Value::String(t)) => t == "string",
                Some(serde_json::Value::Array(ts)) => ts.iter().any(|t| t == "string"),
                _ => false,
            };
            if is_string
                && !["pattern", "enum", "format", "const"]
                    .iter()
                    .any(|k| map.contains_key(*k))
            {
                map.insert(
                    "pattern".into(),
                    serde_json::Value::String("^[^\\x00]*$".into()),
                );
            }
            for (key, child) in map.iter_mut() {
                // Examples are data, not schemas.
                if key != "example" && key != "examples" {
                    forbid_nul(child);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(forbid_nul),
        _ => {}
    }
}

/// Every authenticated POST takes `Idempotency-Key` (see `http::idempotency`): declare the
/// header and the answers it adds (409 in flight, 422 reused or malformed) on each, merged with
/// what the route itself declares.
fn declare_idempotency(doc: &mut serde_json::Value) {
    use serde_json::json;
    let Some(paths) = doc.get_mut("paths").and_then(|p| p.as_object_mut()) else {
        return;
    };
    for item in paths.values_mut() {
        let Some(op) = item.get_mut("post") else {
            continue;
        };
        let secured = op
            .get("security")
            .and_then(|s| s.as_array())
            .is_some_and(|s| !s.is_empty());
        // A secret shown once (`Cache-Control: no-store` declared on its answer) is never
        // stored for a replay: those routes take no key.
        let shows_secret = op
            .get("responses")
            .and_then(|r| r.as_object())
            .is_some_and(|r| {
                r.iter().any(|(status, answer)| {
                    status.starts_with('2') && answer.pointer("/headers/Cache-Control").is_some()
                })
            });
        if !secured || shows_secret {
            continue;
        }
        let Some(op) = op.as_object_mut() else {
            continue;
        };
        let params = op.entry("parameters").or_insert_with(|| json!([]));
        if let Some(params) = params.as_array_mut() {
            params.push(json!({
                "name": "Idempotency-Key",
                "in": "header",
                "required": false,
                "description": "Makes a retry safe: the same key and body within 24 hours replay the first answer (with `Idempotent-Replayed: true`) instead of acting twice.",
                "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"},
                "example": "7f1c1c5e-3c9a-4f0e-9d61-2b1e8f0a6d42"
            }));
        }
        let Some(responses) = op.get_mut("responses").and_then(|r| r.as_object_mut()) else {
            continue;
        };
        for (status, code, text) in [
            (
                "409",
                "idempotency_key_in_use",
                "a request with the same `Idempotency-Key` is still running (`idempotency_key_in_use`), or it changed something and the server stopped before answering, so it is not run again (`idempotency_key_outcome_unknown`)",
            ),
            (
                "422",
                "idempotency_key_reused",
                "the `Idempotency-Key` was used with another body, or is malformed (`idempotency_key_reused`, `validation_failed`)",
            ),
        ] {
            let title = if status == "409" {
                "Conflict"
            } else {
                "Unprocessable Content"
            };
            add_problem(
                responses,
                status,
                text,
                json!({
                    "description": format!("Idempotency: {text}"),
                    "content": {"application/problem+json": {
                        "schema": {"$ref": "#/components/schemas/Problem"},
                        "example": {"type": format!("urn:leman:problem:{code}"), "title": title, "status": status.parse::<u16>().unwrap_or(409), "detail": "See the Idempotency-Key header.", "code": code}
                    }}
                }),
            );
        }
    }
}

/// A member blocked by an organisation's 2FA requirement is refused on every authenticated
/// route but a few (`auth::two_factor_gate::exempt`): declare that 403 on each, merged with the
/// route's own 403 when it has one.
fn declare_two_factor_requirement(doc: &mut serde_json::Value) {
    use serde_json::json;
    let Some(paths) = doc.get_mut("paths").and_then(|p| p.as_object_mut()) else {
        return;
    };
    let text = "a member without two-factor authentication while an organisation of theirs requires it (`two_factor_required`): turn 2FA on, or leave that organisation";
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for (method, op) in item.iter_mut() {
            let secured = op
                .get("security")
                .and_then(|s| s.as_array())
                .is_some_and(|s| !s.is_empty());
            if !secured || crate::auth::two_factor_gate::exempt(method, path) {
                continue;
            }
            let Some(responses) = op.get_mut("responses").and_then(|r| r.as_object_mut()) else {
                continue;
            };
            add_problem(
                responses,
                "403",
                text,
                json!({
                    "description": format!("Refused to {text}"),
                    "content": {"application/problem+json": {
                        "schema": {"$ref": "#/components/schemas/Problem"},
                        "example": {"type": "urn:leman:problem:two_factor_required", "title": "Forbidden", "status": 403, "detail": crate::auth::two_factor_gate::refusal().detail, "code": "two_factor_required"}
                    }}
                }),
            );
        }
    }
}

/// Declares one more reason for `status`: appended to the route's own description when it
/// declares that status already (one status, one entry), else `response` is added.
fn add_problem(
    responses: &mut serde_json::Map<String, serde_json::Value>,
    status: &str,
    text: &str,
    response: serde_json::Value,
) {
    match responses.get_mut(status) {
        Some(existing) => {
            if let Some(d) = existing
                .get("description")
                .and_then(|d| d.as_str())
                .map(str::to_string)
            {
                existing["description"] =
                    serde_json::json!(format!("{}; or {text}", d.trim_end_matches('.')));
            }
        }
        None => {
            responses.insert(status.to_string(), response);
        }
    }
}

/// The top-level `webhooks` (OpenAPI 3.1): one POST per event type that an endpoint receives,
/// its body the event's envelope with `data` the resource's view (`$ref`), the Standard
/// Webhooks headers declared once under `components.parameters`.
fn declare_webhooks(doc: &mut serde_json::Value) {
    use serde_json::json;
    use utoipa::PartialSchema;

    use crate::domain::webhooks::WebhookEventType;
    use crate::views::webhooks::{
        FormerMemberView, common_data_schema, envelope_name, envelope_schema,
    };

    let Some(components) = doc.get_mut("components").and_then(|c| c.as_object_mut()) else {
        return;
    };
    if let Some(schemas) = components
        .get_mut("schemas")
        .and_then(|s| s.as_object_mut())
    {
        // Only webhooks show a former member: no route registers its schema.
        schemas.insert(
            "FormerMemberView".into(),
            serde_json::to_value(FormerMemberView::schema()).expect("a schema serialises"),
        );
        schemas.insert("WebhookEventData".into(), common_data_schema());
        // The envelopes live here rather than inline: shallower, so a smaller document.
        for t in WebhookEventType::ALL {
            schemas.insert(envelope_name(*t), envelope_schema(*t));
        }
    }
    let parameters = components
        .entry("parameters")
        .or_insert_with(|| json!({}))
        .as_object_mut()
        .expect("components.parameters is an object");
    for (name, key, description, schema) in [
        (
            "WebhookId",
            "webhook-id",
            "The event's id (`msg_…`), the same on every retry of it: deduplicate on it.",
            json!({"type": "string", "pattern": "^msg_[0-9a-f]{32}$"}),
        ),
        (
            "WebhookTimestamp",
            "webhook-timestamp",
            "The attempt's time in Unix seconds: refuse one too far from now (the Standard Webhooks libraries allow 5 minutes).",
            json!({"type": "string", "pattern": "^[0-9]{1,12}$"}),
        ),
        (
            "WebhookSignature",
            "webhook-signature",
            "`v1,` + base64 of HMAC-SHA256 over `{webhook-id}.{webhook-timestamp}.{body}`, keyed with the base64-decoded part of the endpoint's secret after `whsec_`; during the 24 hours after a rotation, two signatures separated by a space (accept the delivery when one matches).",
            json!({"type": "string", "pattern": "^v1,[A-Za-z0-9+/=]+( v1,[A-Za-z0-9+/=]+)*$"}),
        ),
    ] {
        parameters.insert(
            name.into(),
            json!({"name": key, "in": "header", "required": true, "description": description, "schema": schema}),
        );
    }
    let mut webhooks = serde_json::Map::new();
    for t in WebhookEventType::ALL {
        webhooks.insert(
            t.as_str().into(),
            json!({"post": {
                "operationId": format!("webhook_{}", t.as_str().replace('.', "_")),
                "tags": ["webhooks"],
                "summary": format!("The `{t}` event"),
                "description": format!("{} To the endpoints subscribed to it.", t.description()),
                "parameters": [
                    {"$ref": "#/components/parameters/WebhookId"},
                    {"$ref": "#/components/parameters/WebhookTimestamp"},
                    {"$ref": "#/components/parameters/WebhookSignature"},
                ],
                "requestBody": {
                    "required": true,
                    "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{}", envelope_name(*t))}}},
                },
                "responses": {
                    "2XX": {"description": "Received (any 2xx; the body is ignored)"},
                },
                "security": [],
            }}),
        );
    }
    doc.as_object_mut()
        .expect("the document is an object")
        .insert("webhooks".into(), serde_json::Value::Object(webhooks));
}
