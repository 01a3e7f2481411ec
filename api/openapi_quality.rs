//! The rules every operation of the spec follows, applied once over the generated document
//! (`openapi::to_json`) rather than repeated in 110 `#[utoipa::path]` attributes:
//!
//! * public operations say `security: []`; `servers` is the API's own origin (`/`);
//! * every problem answer is the one `Problem` schema (`$ref`), lists the error codes it can
//!   carry as `x-leman-error-codes`, and every answer declares `X-Request-Id`;
//! * `Retry-After`, `Location`, `ETag` and `Idempotent-Replayed` are shared `components.headers`;
//! * ids have their real shape (`^org_[0-9a-f]{32}$`), see `ID_PREFIXES` and `SCHEMA_IDS`;
//! * enum values that are not identifiers (`billing:read`) get `x-enum-varnames`;
//! * `LoginOutcome` has a discriminator (`outcome`);
//! * parameters and answers used by several operations live once in `components`.
//!
//! `tests/api/spec.rs` checks each rule on the committed document, so a new route follows them
//! or fails there (docs/api.md, "The spec").

use serde_json::{Map, Value, json};

const PROBLEM_REF: &str = "#/components/schemas/Problem";

/// Applies every rule, in order (ids before `openapi::forbid_nul`, which skips strings with a
/// pattern; sharing last, once everything else is in place).
pub fn apply_before_nul(doc: &mut Value) {
    crate::error::declare_database_failures(doc);
    declare_servers(doc);
    declare_public_security(doc);
    one_problem_schema(doc);
    declare_headers(doc);
    declare_error_codes(doc);
    enum_varnames(doc);
    discriminators(doc);
    id_patterns(doc);
    require_what_is_always_sent(doc);
}

/// After `forbid_nul`: what is shared moves to `components`.
pub fn apply_after_nul(doc: &mut Value) {
    share_parameters(doc);
    share_responses(doc);
}

fn operations_mut(doc: &mut Value) -> impl Iterator<Item = (&String, &String, &mut Value)> {
    doc.get_mut("paths")
        .and_then(|p| p.as_object_mut())
        .into_iter()
        .flat_map(|paths| paths.iter_mut())
        .filter_map(|(path, item)| item.as_object_mut().map(|i| (path, i)))
        .flat_map(|(path, item)| item.iter_mut().map(move |(m, op)| (path, m, op)))
}

fn declare_servers(doc: &mut Value) {
    doc["servers"] = json!([{
        "url": "/",
        "description": "The server that serves this document (paths are absolute and start with `/v1`); a partner's client sets its provider's address, e.g. `https://manager.example.ch`"
    }]);
}

/// An operation without `security` needs no credentials: say so (`security: []`), so that a
/// document-wide default could never apply to it.
fn declare_public_security(doc: &mut Value) {
    for (_, _, op) in operations_mut(doc) {
        if let Some(op) = op.as_object_mut() {
            op.entry("security").or_insert_with(|| json!([]));
        }
    }
}

/// A problem answer whose schema is an inline copy of `Problem` refers to it instead.
fn one_problem_schema(doc: &mut Value) {
    for (_, _, op) in operations_mut(doc) {
        for response in responses_mut(op) {
            if let Some(media) = response.pointer_mut("/content/application~1problem+json") {
                let inline = media.get("schema").is_some_and(|s| s.get("$ref").is_none());
                if inline {
                    media["schema"] = json!({ "$ref": PROBLEM_REF });
                }
            }
        }
    }
}

fn responses_mut(op: &mut Value) -> impl Iterator<Item = &mut Value> {
    op.get_mut("responses")
        .and_then(|r| r.as_object_mut())
        .into_iter()
        .flat_map(|r| r.values_mut())
}

/// The headers shared by many answers, declared once.
fn header_components() -> Value {
    json!({
        "X-Request-Id": {
            "description": "The request's id: the client's own `X-Request-Id` when it is short and printable, otherwise a new UUIDv7. Sent with every answer; quote it to support (problems carry it as `request_id` too).",
            "required": false,
            "schema": {"type": "string", "minLength": 1, "maxLength": 128, "pattern": "^[!-~]+$"},
            "example": "01890a5d-ac96-774b-bcce-b302099a8057"
        },
        "Idempotent-Replayed": {
            "description": "`true` when this answer is the stored answer of an earlier request with the same `Idempotency-Key` and body (nothing was done again).",
            "required": false,
            "schema": {"type": "string", "enum": ["true"]},
            "example": "true"
        },
        "Retry-After": {
            "description": "Seconds to wait before trying again.",
            "required": false,
            "schema": {"type": "integer", "minimum": 0},
            "example": 6
        },
        "Location": {
            "description": "The address of what was created or started (absolute path).",
            "required": false,
            "schema": {"type": "string", "pattern": "^/v1/[!-~]+$"},
            "example": "/v1/tasks/task_01936d7a6b2f7c3e9d4a5b6c7d8e9f00"
        },
        "ETag": {
            "description": "The document's entity tag (the SHA-256 of its bytes, quoted): send it back as `If-None-Match` to get `304 Not Modified` while it is current.",
            "required": false,
            "schema": {"type": "string", "pattern": "^\"[!#-~]+\"$"},
            "example": "\"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\""
        }
    })
}

/// `X-Request-Id` on every answer, `Idempotent-Replayed` on the successes of operations that
/// take an `Idempotency-Key`, and the shared `Retry-After`, `Location` and `ETag` instead of
/// inline copies. A route-specific description of a shared header is kept next to the `$ref`
/// as the answer's description says it already.
fn declare_headers(doc: &mut Value) {
    let components = doc["components"]
        .as_object_mut()
        .expect("the document has components");
    components.insert("headers".into(), header_components());
    for (_, _, op) in operations_mut(doc) {
        let idempotent = op["parameters"]
            .as_array()
            .is_some_and(|ps| ps.iter().any(|p| p["name"] == "Idempotency-Key"));
        let Some(responses) = op.get_mut("responses").and_then(|r| r.as_object_mut()) else {
            continue;
        };
        for (status, response) in responses.iter_mut() {
            let Some(response) = response.as_object_mut() else {
                continue;
            };
            let headers = response
                .entry("headers")
                .or_insert_with(|| json!({}))
                .as_object_mut()
                .expect("headers is an object");
            for shared in ["Retry-After", "Location", "ETag"] {
                if headers.contains_key(shared) {
                    headers.insert(
                        shared.into(),
                        json!({ "$ref": format!("#/components/headers/{shared}") }),
                    );
                }
            }
            if ["429", "503"].contains(&status.as_str()) && !headers.contains_key("Retry-After") {
                // Only some 503s carry it (`database_busy`, rate limits): declared optional.
                headers.insert(
                    "Retry-After".into(),
                    json!({ "$ref": "#/components/headers/Retry-After" }),
                );
            }
            if idempotent && status.starts_with('2') {
                headers.insert(
                    "Idempotent-Replayed".into(),
                    json!({ "$ref": "#/components/headers/Idempotent-Replayed" }),
                );
            }
            headers.insert(
                "X-Request-Id".into(),
                json!({ "$ref": "#/components/headers/X-Request-Id" }),
            );
        }
    }
}

/// The error codes a problem answer can carry, as `x-leman-error-codes`: the code of its
/// example and every code its description names in backticks (`` (`not_found`) ``), that of
/// the problem or of one of its `errors`. A code is a snake_case word that some example of the
/// document carries, or that has an underscore and is no operation id, property name or enum
/// value of the document.
fn declare_error_codes(doc: &mut Value) {
    let mut known = std::collections::BTreeSet::new();
    collect_example_codes(&doc["paths"], &mut known);
    let mut not_codes = std::collections::BTreeSet::new();
    collect_names(doc, &mut not_codes);
    for (_, _, op) in operations_mut(doc) {
        for response in responses_mut(op) {
            let Some(media) = response.pointer("/content/application~1problem+json") else {
                continue;
            };
            let mut codes = Vec::new();
            let mut add = |c: &str| {
                if !codes.iter().any(|k| k == c) {
                    codes.push(c.to_string());
                }
            };
            if let Some(c) = media.pointer("/example/code").and_then(|c| c.as_str()) {
                add(c);
            }
            if let Some(examples) = media.get("examples").and_then(|e| e.as_object()) {
                for e in examples.values() {
                    if let Some(c) = e.pointer("/value/code").and_then(|c| c.as_str()) {
                        add(c);
                    }
                }
            }
            let description = response["description"].as_str().unwrap_or_default();
            for (i, part) in description.split('`').enumerate() {
                let is_code = i % 2 == 1
                    && !part.is_empty()
                    && part
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
                    && part.as_bytes()[0].is_ascii_lowercase()
                    && (known.contains(part) || (part.contains('_') && !not_codes.contains(part)));
                if is_code {
                    add(part);
                }
            }
            codes.sort();
            response["x-leman-error-codes"] = json!(codes);
        }
    }
}

/// Operation ids, property names and enum values: backticked words that are not error codes.
fn collect_names(v: &Value, out: &mut std::collections::BTreeSet<String>) {
    match v {
        Value::Object(map) => {
            if let Some(id) = map.get("operationId").and_then(|i| i.as_str()) {
                out.insert(id.to_string());
            }
            if let Some(props) = map.get("properties").and_then(|p| p.as_object()) {
                out.extend(props.keys().cloned());
            }
            if let Some(values) = map.get("enum").and_then(|e| e.as_array()) {
                out.extend(values.iter().filter_map(|v| v.as_str()).map(str::to_string));
            }
            for (key, child) in map {
                if key != "example" && key != "examples" {
                    collect_names(child, out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|c| collect_names(c, out)),
        _ => {}
    }
}

fn collect_example_codes(v: &Value, out: &mut std::collections::BTreeSet<String>) {
    match v {
        Value::Object(map) => {
            if let (Some(Value::String(t)), Some(Value::String(c))) =
                (map.get("type"), map.get("code"))
                && t.starts_with("urn:leman:problem:")
            {
                out.insert(c.clone());
            }
            map.values().for_each(|c| collect_example_codes(c, out));
        }
        Value::Array(items) => items.iter().for_each(|c| collect_example_codes(c, out)),
        _ => {}
    }
}

/// A generated client names an enum's members after its values; `billing:read` is no name, so
/// each enum with such values says them (`BillingRead`) in `x-enum-varnames`.
fn enum_varnames(doc: &mut Value) {
    fn walk(v: &mut Value) {
        match v {
            Value::Object(map) => {
                let names = map
                    .get("enum")
                    .and_then(|e| e.as_array())
                    .and_then(|values| {
                        let strings: Vec<&str> = values.iter().filter_map(|v| v.as_str()).collect();
                        let odd = strings.len() == values.len()
                            && strings.iter().any(|s| {
                                !s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
                            });
                        odd.then(|| strings.iter().map(|s| pascal(s)).collect::<Vec<_>>())
                    });
                if let Some(names) = names {
                    map.insert("x-enum-varnames".into(), json!(names));
                }
                for (key, child) in map.iter_mut() {
                    if key != "example" && key != "examples" {
                        walk(child);
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(walk),
            _ => {}
        }
    }
    walk(&mut doc["components"]["schemas"]);
}

/// `billing:read` → `BillingRead`, `internal_error` → `InternalError`.
pub fn pascal(s: &str) -> String {
    s.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// One `oneOf` told apart by a property: (schema, property, [(value, variant)]).
pub type Discriminated = (
    &'static str,
    &'static str,
    [(&'static str, &'static str); 2],
);

/// `oneOf`s of objects told apart by a property.
pub const DISCRIMINATED: [Discriminated; 1] = [(
    "LoginOutcome",
    "outcome",
    [("tokens", "Tokens"), ("mfa_required", "MfaRequired")],
)];

fn discriminators(doc: &mut Value) {
    let schemas = &mut doc["components"]["schemas"];
    for (schema, property, variants) in DISCRIMINATED {
        let mapping: Map<String, Value> = variants
            .iter()
            .map(|(value, variant)| {
                (
                    value.to_string(),
                    json!(format!("#/components/schemas/{variant}")),
                )
            })
            .collect();
        schemas[schema]["discriminator"] = json!({ "propertyName": property, "mapping": mapping });
        for (value, variant) in variants {
            let prop = &mut schemas[variant]["properties"][property];
            if let Some(prop) = prop.as_object_mut() {
                prop.remove("pattern");
                prop.insert("enum".into(), json!([value]));
            }
        }
    }
}

/// Id prefixes by property or parameter name (`db::new_id`, `domain::ids`). Not here:
/// `actor_user_id` and `subject_user_id` of an activity, a pseudonym once the account is deleted.
pub const ID_PREFIXES: [(&str, &str); 26] = [
    ("org_id", "org"),
    ("organization_id", "org"),
    ("user_id", "usr"),
    ("invoice_id", "inv"),
    ("order_id", "ord"),
    ("product_id", "prd"),
    ("product_ids", "prd"),
    ("domain_id", "dom"),
    ("payment_id", "pay"),
    ("payment_method_id", "pm"),
    ("auto_renew_payment_method_id", "pm"),
    ("invitation_id", "ivt"),
    ("session_id", "ses"),
    ("token_id", "tok"),
    ("credit_note_id", "cn"),
    ("pro_forma_id", "pf"),
    ("task_id", "task"),
    ("refund_id", "rfd"),
    ("cancellation_id", "cnl"),
    ("activity_id", "act"),
    ("owner_change_id", "doc"),
    ("transaction_id", "ptx"),
    ("bundle_id", "prd"),
    ("webhook_endpoint_id", "whe"),
    ("delivery_id", "whd"),
    ("event_id", "msg"),
];

/// The prefix of the `id` property of each schema that has one.
pub const SCHEMA_IDS: [(&str, &str); 23] = [
    ("ActivityView", "act"),
    ("ApiTokenView", "tok"),
    ("CancellationView", "cnl"),
    ("CreditNoteRef", "cn"),
    ("CreditNoteView", "cn"),
    ("DomainView", "dom"),
    ("InvitationView", "ivt"),
    ("InvoiceView", "inv"),
    ("Me", "usr"),
    ("OrderView", "ord"),
    ("OrganizationView", "org"),
    ("OwnerChangeView", "doc"),
    ("PaymentMethodView", "pm"),
    ("PaymentView", "pay"),
    ("PrepaidTransactionView", "ptx"),
    ("ProFormaView", "pf"),
    ("ProductView", "prd"),
    ("RenewalProduct", "prd"),
    ("SessionView", "ses"),
    ("TaskView", "task"),
    ("WebhookEndpointView", "whe"),
    ("WebhookDeliveryView", "whd"),
    ("FeedbackView", "fbk"),
];

/// `^org_[0-9a-f]{32}$`: a UUIDv7 in lower-case hex behind the kind's prefix. A payment method
/// may also be the organisation's prepaid account, `prepaid`.
pub fn id_pattern(prefix: &str) -> String {
    if prefix == "pm" {
        return "^(prepaid|pm_[0-9a-f]{32})$".into();
    }
    format!("^{prefix}_[0-9a-f]{{32}}$")
}

fn set_id_pattern(schema: &mut Value, prefix: &str) {
    let Value::Object(map) = schema else {
        return;
    };
    if let Some(items) = map.get_mut("items") {
        set_id_pattern(items, prefix);
        return;
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(parts) = map.get_mut(key).and_then(|p| p.as_array_mut()) {
            parts.iter_mut().for_each(|p| set_id_pattern(p, prefix));
            return;
        }
    }
    let is_string = match map.get("type") {
        Some(Value::String(t)) => t == "string",
        Some(Value::Array(ts)) => ts.iter().any(|t| t == "string"),
        _ => false,
    };
    if is_string && !map.contains_key("enum") {
        map.insert("pattern".into(), json!(id_pattern(prefix)));
    }
}

/// Ids in answers, path parameters and request bodies get their pattern. Query filters keep
/// the looser string: an unknown-looking id there simply matches nothing.
fn id_patterns(doc: &mut Value) {
    let prefix_of = |name: &str| {
        ID_PREFIXES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, p)| *p)
    };
    if let Some(schemas) = doc["components"]["schemas"].as_object_mut() {
        for (name, schema) in schemas.iter_mut() {
            let Some(props) = schema.get_mut("properties").and_then(|p| p.as_object_mut()) else {
                continue;
            };
            for (prop, s) in props.iter_mut() {
                let prefix = if prop == "id" {
                    SCHEMA_IDS.iter().find(|(n, _)| n == name).map(|(_, p)| *p)
                } else {
                    prefix_of(prop)
                };
                if let Some(prefix) = prefix {
                    set_id_pattern(s, prefix);
                }
            }
        }
    }
    for (_, _, op) in operations_mut(doc) {
        for p in op
            .get_mut("parameters")
            .and_then(|p| p.as_array_mut())
            .into_iter()
            .flatten()
        {
            if p["in"] != "path" {
                continue;
            }
            if let Some(prefix) = p["name"].as_str().and_then(prefix_of) {
                set_id_pattern(&mut p["schema"], prefix);
            }
        }
    }
}

/// A parameter used by more than one operation, identical in each, becomes
/// `#/components/parameters/<PascalName>` (the first shape met keeps the name).
fn share_parameters(doc: &mut Value) {
    let mut counts: Vec<(Value, usize)> = Vec::new();
    for (_, _, op) in operations_mut(doc) {
        for p in op["parameters"].as_array().into_iter().flatten() {
            match counts.iter_mut().find(|(q, _)| q == p) {
                Some((_, n)) => *n += 1,
                None => counts.push((p.clone(), 1)),
            }
        }
    }
    let mut shared: Vec<(String, Value)> = Vec::new();
    for (p, n) in counts {
        let name = pascal(p["name"].as_str().unwrap_or_default());
        if n > 1 && !shared.iter().any(|(s, _)| *s == name) {
            shared.push((name, p));
        }
    }
    for (_, _, op) in operations_mut(doc) {
        for p in op
            .get_mut("parameters")
            .and_then(|p| p.as_array_mut())
            .into_iter()
            .flatten()
        {
            if let Some((name, _)) = shared.iter().find(|(_, q)| q == p) {
                *p = json!({ "$ref": format!("#/components/parameters/{name}") });
            }
        }
    }
    doc["components"]["parameters"] = Value::Object(shared.into_iter().collect());
}

/// An answer used by more than one operation, identical in each, becomes
/// `#/components/responses/<Name>`: the problem's code (`InternalError`), else the status.
fn share_responses(doc: &mut Value) {
    let mut counts: Vec<(Value, usize)> = Vec::new();
    for (_, _, op) in operations_mut(doc) {
        for r in responses_mut(op) {
            match counts.iter_mut().find(|(q, _)| q == r) {
                Some((_, n)) => *n += 1,
                None => counts.push((r.clone(), 1)),
            }
        }
    }
    // The most used shape of a code gets the plain name (`NotFound`), others a number.
    counts.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
    let mut shared: Vec<(String, Value)> = Vec::new();
    for (r, n) in counts {
        if n < 2 {
            continue;
        }
        let media = r.pointer("/content/application~1problem+json");
        let base = match media
            .and_then(|m| m.pointer("/example/code"))
            .and_then(|c| c.as_str())
        {
            Some(code) => pascal(code),
            None => match media.and_then(|m| m.pointer("/example/status")) {
                Some(status) => format!("Problem{status}"),
                None => continue,
            },
        };
        let mut name = base.clone();
        let mut i = 2;
        while shared.iter().any(|(s, _)| *s == name) {
            name = format!("{base}{i}");
            i += 1;
        }
        shared.push((name, r));
    }
    for (_, _, op) in operations_mut(doc) {
        for r in responses_mut(op) {
            if let Some((name, _)) = shared.iter().find(|(_, q)| q == r) {
                *r = json!({ "$ref": format!("#/components/responses/{name}") });
            }
        }
    }
    doc["components"]["responses"] = Value::Object(shared.into_iter().collect());
}

/// Properties of answers that may be left out (`#[serde(skip_serializing_if)]`); every other
/// property of a schema only answers use is always sent, `null` when empty, so it is `required`
/// (and nullable where it is an `Option`). `tests/api/spec.rs` compares this list with the code.
pub const MAY_BE_ABSENT: [(&str, &str); 2] = [("Problem", "request_id"), ("Problem", "errors")];

/// Schemas both requests and answers use, where a property may be left out of a request: their
/// properties stay optional (`BillingAddress.line2`, `Contact.phone`, …).
fn require_what_is_always_sent(doc: &mut Value) {
    let mut in_answers = std::collections::BTreeSet::new();
    let mut in_requests = std::collections::BTreeSet::new();
    let schemas = doc["components"]["schemas"].clone();
    for item in doc["paths"]
        .as_object()
        .into_iter()
        .flat_map(|p| p.values())
    {
        for op in item.as_object().into_iter().flat_map(|i| i.values()) {
            reachable(&op["responses"], &schemas, &mut in_answers);
            reachable(&op["requestBody"], &schemas, &mut in_requests);
            reachable(&op["parameters"], &schemas, &mut in_requests);
        }
    }
    for name in in_answers.difference(&in_requests) {
        let schema = &mut doc["components"]["schemas"][name.as_str()];
        let Some(props) = schema.get("properties").and_then(|p| p.as_object()) else {
            continue;
        };
        let required: Vec<Value> = props
            .keys()
            .filter(|p| !MAY_BE_ABSENT.contains(&(name.as_str(), p.as_str())))
            .map(|p| json!(p))
            .collect();
        schema["required"] = Value::Array(required);
    }
}

/// The component schemas `v` refers to, directly or through other schemas.
pub fn reachable(v: &Value, schemas: &Value, out: &mut std::collections::BTreeSet<String>) {
    match v {
        Value::Object(map) => {
            if let Some(name) = map
                .get("$ref")
                .and_then(|r| r.as_str())
                .and_then(|r| r.strip_prefix("#/components/schemas/"))
                && out.insert(name.to_string())
            {
                reachable(&schemas[name], schemas, out);
            }
            for (key, child) in map {
                if key != "example" && key != "examples" {
                    reachable(child, schemas, out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|c| reachable(c, schemas, out)),
        _ => {}
    }
}
