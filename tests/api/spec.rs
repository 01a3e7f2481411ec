//! The committed spec is the generated one, and it is complete.

const COMMITTED: &str = include_str!("../../openapi/openapi.json");

#[test]
fn the_committed_spec_is_current() {
    let generated = leman::openapi::to_json(&leman::openapi::build());
    assert!(
        generated == COMMITTED,
        "openapi/openapi.json is stale: run `make openapi` and commit the result"
    );
}

#[tokio::test]
async fn the_served_spec_is_the_committed_one() {
    let app = crate::helpers::TestApp::spawn().await;
    let served: serde_json::Value = app.get("/v1/openapi.json").await.json().await.unwrap();
    let committed: serde_json::Value = serde_json::from_str(COMMITTED).unwrap();
    assert_eq!(served, committed);
}

#[test]
fn every_operation_is_described_with_its_errors() {
    let spec = crate::helpers::spec();
    assert_eq!(spec["openapi"], "3.1.0");
    let schemes = &spec["components"]["securitySchemes"];
    assert!(schemes["bearer_jwt"].is_object() && schemes["personal_token"].is_object());
    assert!(spec["components"]["schemas"]["Problem"].is_object());
    let mut operation_ids = std::collections::HashSet::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        assert!(
            path.starts_with("/v1/")
                || ["/healthz", "/readyz", "/metrics"].contains(&path.as_str()),
            "{path} outside /v1"
        );
        for (method, op) in item.as_object().unwrap() {
            let id = op["operationId"]
                .as_str()
                .unwrap_or_else(|| panic!("{method} {path} has no operationId"));
            assert!(
                operation_ids.insert(id.to_string()),
                "duplicate operationId {id}"
            );
            let responses = op["responses"].as_object().unwrap();
            assert!(
                responses.contains_key("500"),
                "{method} {path} does not declare 500"
            );
            for (status, response) in responses {
                assert!(
                    response["description"]
                        .as_str()
                        .is_some_and(|d| !d.is_empty()),
                    "{method} {path} {status}: no description"
                );
                if status.starts_with('4') || status.starts_with('5') {
                    assert!(
                        response["content"]["application/problem+json"].is_object(),
                        "{method} {path} {status} is not problem+json"
                    );
                } else if let Some(content) = response["content"].as_object() {
                    for (ct, media) in content {
                        let in_schema = media["schema"]["$ref"].as_str().is_some_and(|r| {
                            let schema = &spec["components"]["schemas"]
                                [r.trim_start_matches("#/components/schemas/")];
                            schema.get("example").is_some() || schema.get("examples").is_some()
                        });
                        assert!(
                            in_schema
                                || media.get("example").is_some()
                                || media.get("examples").is_some(),
                            "{method} {path} {status} {ct}: no example"
                        );
                    }
                }
            }
            if op.get("requestBody").is_some() {
                for code in ["400", "413", "415", "422"] {
                    assert!(
                        responses.contains_key(code),
                        "{method} {path} takes a body but does not declare {code}"
                    );
                }
            }
        }
    }
}

/// The routes that show a secret once (declared `Cache-Control` on a success) are exactly those
/// the idempotency middleware leaves alone, and they alone declare no `Idempotency-Key`.
#[test]
fn secret_answers_take_no_idempotency_key() {
    let spec = crate::helpers::spec();
    let mut secret = Vec::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        let Some(op) = item.get("post") else { continue };
        let shows_secret = op["responses"]
            .as_object()
            .unwrap()
            .iter()
            .any(|(status, r)| {
                status.starts_with('2') && r.pointer("/headers/Cache-Control").is_some()
            });
        let takes_key = op["parameters"]
            .as_array()
            .is_some_and(|ps| ps.iter().any(|p| p["name"] == "Idempotency-Key"));
        let secured = op["security"].as_array().is_some_and(|s| !s.is_empty());
        assert_eq!(takes_key, secured && !shows_secret, "POST {path}");
        if shows_secret {
            secret.push(path.as_str());
        }
    }
    secret.sort_unstable();
    let mut listed = leman::http::idempotency::SECRET_ROUTES.to_vec();
    listed.sort_unstable();
    assert_eq!(secret, listed);
}

// --- Issue 14 part 8: the description a partner reads (docs/api.md, "The spec"). ---

use leman::openapi_quality::{DISCRIMINATED, MAY_BE_ABSENT, reachable};
use serde_json::Value;
use std::collections::BTreeSet;

fn committed() -> Value {
    serde_json::from_str(COMMITTED).unwrap()
}

fn ops(spec: &Value) -> Vec<(String, String, Value)> {
    crate::helpers::operations(spec)
}

/// Every `.rs` file under `api/`, with its path.
fn sources() -> Vec<(String, String)> {
    fn walk(dir: &std::path::Path, out: &mut Vec<(String, String)>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push((
                    path.display().to_string(),
                    std::fs::read_to_string(&path).unwrap(),
                ));
            }
        }
    }
    let mut out = Vec::new();
    walk(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("api"),
        &mut out,
    );
    out
}

/// A field of a struct that derives `Serialize` and `ToSchema`: (struct, field, is an
/// `Option`, is skipped when serialising).
fn serialised_fields() -> Vec<(String, String, bool, bool)> {
    let mut fields = Vec::new();
    for (_, text) in sources() {
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let Some(rest) = line.strip_prefix("pub struct ") else {
                continue;
            };
            if !line.ends_with('{') {
                continue;
            }
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            // The attributes above it, up to the previous item.
            let mut j = i;
            while j > 0 && !lines[j - 1].is_empty() && lines[j - 1] != "}" {
                j -= 1;
            }
            let attrs = lines[j..i].join("\n");
            if !attrs.contains("Serialize") || !attrs.contains("ToSchema") {
                continue;
            }
            let mut pending = String::new();
            for body in &lines[i + 1..] {
                let body = body.trim();
                if body == "}" {
                    break;
                }
                if body.starts_with("#[") || body.starts_with("///") || !body.starts_with("pub ") {
                    pending.push_str(body);
                    continue;
                }
                let Some((field, ty)) = body.trim_start_matches("pub ").split_once(": ") else {
                    continue;
                };
                fields.push((
                    name.clone(),
                    field.to_string(),
                    ty.starts_with("Option<"),
                    pending.contains("skip_serializing_if") || pending.contains("serde(skip"),
                ));
                pending.clear();
            }
        }
    }
    fields
}

/// Schemas that answers use, and those that requests use.
fn schema_uses(spec: &Value) -> (BTreeSet<String>, BTreeSet<String>) {
    let schemas = &spec["components"]["schemas"];
    let (mut answers, mut requests) = (BTreeSet::new(), BTreeSet::new());
    for (_, _, op) in ops(spec) {
        reachable(&op["responses"], schemas, &mut answers);
        reachable(&op["requestBody"], schemas, &mut requests);
        reachable(&op["parameters"], schemas, &mut requests);
    }
    (answers, requests)
}

fn allows_null(schema: &Value) -> bool {
    match &schema["type"] {
        Value::String(t) => t == "null",
        Value::Array(ts) => ts.iter().any(|t| t == "null"),
        _ => ["oneOf", "anyOf"].iter().any(|k| {
            schema[*k]
                .as_array()
                .is_some_and(|parts| parts.iter().any(allows_null))
        }),
    }
}

#[test]
fn every_property_an_answer_always_carries_is_required_and_nullable_when_optional() {
    let spec = committed();
    let schemas = &spec["components"]["schemas"];
    let (answers, requests) = schema_uses(&spec);
    let fields = serialised_fields();
    assert!(
        fields.len() > 150,
        "the source walk found {} fields",
        fields.len()
    );
    // What the code may leave out is exactly what the spec lets be absent.
    let mut skipped: Vec<(String, String)> = fields
        .iter()
        .filter(|f| f.3 && answers.contains(&f.0))
        .map(|f| (f.0.clone(), f.1.clone()))
        .collect();
    skipped.sort();
    let mut listed: Vec<(String, String)> = MAY_BE_ABSENT
        .iter()
        .map(|(s, p)| (s.to_string(), p.to_string()))
        .collect();
    listed.sort();
    assert_eq!(
        skipped, listed,
        "MAY_BE_ABSENT differs from `skip_serializing_if` in the code"
    );
    let mut missing = Vec::new();
    let mut not_nullable = Vec::new();
    for name in answers.difference(&requests) {
        let schema = &schemas[name.as_str()];
        let required: BTreeSet<&str> = schema["required"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| r.as_str())
            .collect();
        for (prop, s) in schema["properties"].as_object().into_iter().flatten() {
            if !required.contains(prop.as_str())
                && !MAY_BE_ABSENT.contains(&(name.as_str(), prop.as_str()))
            {
                missing.push(format!("{name}.{prop}"));
            }
            let optional = fields
                .iter()
                .any(|f| f.0 == *name && f.1 == *prop && f.2 && !f.3);
            if optional && !allows_null(s) {
                not_nullable.push(format!("{name}.{prop}"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "always sent but not required: {missing:#?}"
    );
    assert!(
        not_nullable.is_empty(),
        "Option but not nullable: {not_nullable:#?}"
    );
    // The ~40 fields of issue 14 that were optional though always sent, for example:
    for (schema, prop) in [
        ("InvoiceView", "paid_at"),
        ("ProductView", "scheduled_change"),
        ("Me", "recovery_email"),
        ("TaskView", "result"),
        ("InvoiceList", "next_cursor"),
    ] {
        assert!(
            schemas[schema]["required"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r == prop),
            "{schema}.{prop}"
        );
    }
}

#[tokio::test]
async fn a_null_field_is_sent_as_null_not_left_out() {
    let app = crate::helpers::TestApp::spawn().await;
    let (_, s) = app.signed_in("nulls@example.com").await;
    let res = crate::helpers::send(&app, reqwest::Method::GET, "/v1/me", &s, None).await;
    assert_eq!(res.status(), 200);
    let me: Value = res.json().await.unwrap();
    let spec = committed();
    for prop in spec["components"]["schemas"]["Me"]["required"]
        .as_array()
        .unwrap()
    {
        assert!(
            me.get(prop.as_str().unwrap()).is_some(),
            "GET /v1/me left out {prop}: {me}"
        );
    }
    assert!(me["recovery_email"].is_null(), "{me}");
}

#[test]
fn every_problem_answer_is_the_one_problem_schema_and_lists_its_codes() {
    let spec = crate::helpers::spec();
    let code_sources: String = sources()
        .into_iter()
        .filter(|(path, _)| !path.contains("/routes/") && !path.contains("openapi"))
        .map(|(_, text)| text)
        .collect();
    let mut unknown = BTreeSet::new();
    for (method, path, op) in ops(&spec) {
        for (status, response) in op["responses"].as_object().unwrap() {
            if !(status.starts_with('4') || status.starts_with('5')) {
                continue;
            }
            let media = &response["content"]["application/problem+json"];
            let schema = media["schema"]["$ref"]
                .as_str()
                .unwrap_or_else(|| panic!("{method} {path} {status}: an inline problem schema"));
            let target = &spec["components"]["schemas"][schema.rsplit('/').next().unwrap()];
            assert!(
                schema == "#/components/schemas/Problem"
                    || target["allOf"][0]["$ref"] == "#/components/schemas/Problem",
                "{method} {path} {status}: {schema} is not Problem"
            );
            let codes: Vec<&str> = response["x-leman-error-codes"]
                .as_array()
                .unwrap_or_else(|| panic!("{method} {path} {status}: no x-leman-error-codes"))
                .iter()
                .map(|c| c.as_str().unwrap())
                .collect();
            assert!(!codes.is_empty(), "{method} {path} {status}: no code");
            if let Some(code) = media["example"]["code"].as_str() {
                assert!(codes.contains(&code), "{method} {path} {status}: {code}");
            }
            for code in codes {
                if !code_sources.contains(&format!("\"{code}\"")) {
                    unknown.insert(format!("{method} {path} {status}: {code}"));
                }
            }
        }
    }
    assert!(
        unknown.is_empty(),
        "codes the code never produces: {unknown:#?}"
    );
}

#[test]
fn no_schema_is_an_anonymous_object() {
    fn walk(v: &Value, at: &str, bare: &mut Vec<String>) {
        match v {
            Value::Object(map) => {
                let is_object = match map.get("type") {
                    Some(Value::String(t)) => t == "object",
                    Some(Value::Array(ts)) => ts.iter().any(|t| t == "object"),
                    _ => false,
                };
                if is_object
                    && !map.contains_key("properties")
                    && !map.contains_key("additionalProperties")
                {
                    bare.push(at.to_string());
                }
                for (key, child) in map {
                    if key != "example" && key != "examples" {
                        walk(child, &format!("{at}/{key}"), bare);
                    }
                }
            }
            Value::Array(items) => {
                for (i, c) in items.iter().enumerate() {
                    walk(c, &format!("{at}/{i}"), bare);
                }
            }
            _ => {}
        }
    }
    let spec = committed();
    let mut bare = Vec::new();
    walk(&spec, "#", &mut bare);
    assert!(bare.is_empty(), "objects without a shape: {bare:#?}");
    // Option quantities: a map of option code to a quantity, so `{users: 25}` types.
    let schemas = &spec["components"]["schemas"];
    for options in [
        &schemas["ProductView"]["properties"]["options"],
        &schemas["ScheduledChange"]["properties"]["options"],
    ] {
        assert_eq!(
            options["additionalProperties"]["type"], "integer",
            "{options}"
        );
        assert_eq!(options["additionalProperties"]["minimum"], 0, "{options}");
        assert!(options["example"].is_object(), "{options}");
    }
    let details = &schemas["ActivityView"]["properties"]["details"];
    assert!(details["additionalProperties"].is_object(), "{details}");
    assert!(details["example"].is_object(), "{details}");
}

#[test]
fn every_one_of_of_objects_in_answers_has_a_discriminator() {
    let spec = committed();
    let schemas = &spec["components"]["schemas"];
    let (answers, _) = schema_uses(&spec);
    for (name, schema) in schemas.as_object().unwrap() {
        let Some(parts) = schema["oneOf"].as_array() else {
            continue;
        };
        let refs: Vec<&str> = parts.iter().filter_map(|p| p["$ref"].as_str()).collect();
        // `LoginMfaBody` (a request: `code` or `recovery_code`) needs none to be typed.
        if refs.len() < 2 || !answers.contains(name) {
            continue;
        }
        let d = &schema["discriminator"];
        let property = d["propertyName"]
            .as_str()
            .unwrap_or_else(|| panic!("{name}: a oneOf without discriminator"));
        let mapping = d["mapping"].as_object().unwrap();
        assert_eq!(mapping.len(), refs.len(), "{name}");
        for (value, target) in mapping {
            assert!(refs.contains(&target.as_str().unwrap()), "{name}: {target}");
            let variant = &schemas[target.as_str().unwrap().rsplit('/').next().unwrap()];
            assert_eq!(
                variant["properties"][property]["enum"],
                serde_json::json!([value])
            );
            assert!(
                variant["required"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|r| r == property),
                "{target}.{property} is not required"
            );
        }
    }
    assert_eq!(DISCRIMINATED[0].0, "LoginOutcome");
    assert_eq!(
        schemas["LoginOutcome"]["discriminator"]["propertyName"],
        "outcome"
    );
}

#[tokio::test]
async fn a_login_answer_carries_its_discriminator() {
    let app = crate::helpers::TestApp::spawn().await;
    let (user, _) = app.signed_in("outcome@example.com").await;
    let res = app
        .post_json(
            "/v1/auth/login",
            serde_json::json!({"email": user.email, "password": user.password}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["outcome"], "tokens", "{body}");
}

#[test]
fn enum_values_that_are_no_names_come_with_names() {
    let spec = committed();
    let scope = &spec["components"]["schemas"]["Scope"];
    let values = scope["enum"].as_array().unwrap();
    let names = scope["x-enum-varnames"].as_array().unwrap();
    assert_eq!(values.len(), names.len());
    let position = values.iter().position(|v| v == "billing:read").unwrap();
    assert_eq!(names[position], "BillingRead");
    let unique: BTreeSet<&str> = names.iter().map(|n| n.as_str().unwrap()).collect();
    assert_eq!(unique.len(), names.len());
    fn walk(v: &Value, at: &str) {
        if let Value::Object(map) = v {
            if let Some(values) = map.get("enum").and_then(|e| e.as_array()) {
                let odd = values.iter().any(|v| {
                    v.as_str()
                        .is_some_and(|s| !s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
                });
                if odd {
                    let names = map["x-enum-varnames"].as_array().unwrap_or_else(|| {
                        panic!("{at}: enum values that are no names, no x-enum-varnames")
                    });
                    assert_eq!(names.len(), values.len(), "{at}");
                    for n in names {
                        let n = n.as_str().unwrap();
                        assert!(
                            n.bytes().all(|b| b.is_ascii_alphanumeric())
                                && n.as_bytes()[0].is_ascii_uppercase(),
                            "{at}: {n}"
                        );
                    }
                }
            }
            for (key, child) in map {
                if key != "example" && key != "examples" {
                    walk(child, &format!("{at}/{key}"));
                }
            }
        } else if let Value::Array(items) = v {
            items.iter().for_each(|c| walk(c, at));
        }
    }
    walk(&spec, "#");
}

#[test]
fn every_operation_says_its_security_and_the_document_its_server() {
    let spec = committed();
    let servers = spec["servers"].as_array().unwrap();
    assert_eq!(servers.len(), 1);
    // Paths are absolute (`/v1/…`): the server must not add `/v1` (schemathesis.toml).
    assert_eq!(servers[0]["url"], "/");
    let mut public = Vec::new();
    for (method, path, op) in ops(&spec) {
        let security = op["security"]
            .as_array()
            .unwrap_or_else(|| panic!("{method} {path}: no security"));
        if security.is_empty() {
            public.push(op["operationId"].as_str().unwrap().to_string());
        }
    }
    for id in [
        "login",
        "create_user",
        "get_healthz",
        "get_openapi",
        "request_password_reset",
    ] {
        assert!(
            public.iter().any(|p| p == id) || !ops(&spec).iter().any(|o| o.2["operationId"] == id),
            "{id} is public: security: []"
        );
    }
    assert!(public.len() >= 10, "{public:?}");
}

#[test]
fn every_operation_has_a_short_summary_and_a_description() {
    let spec = committed();
    for (method, path, op) in ops(&spec) {
        let summary = op["summary"]
            .as_str()
            .unwrap_or_else(|| panic!("{method} {path}: no summary"));
        assert!(
            !summary.is_empty()
                && summary.chars().count() < 80
                && !summary.contains('\n')
                && !summary.ends_with('.'),
            "{method} {path}: the summary is the doc comment's first line (< 80 characters, \
             no period), then a blank `///` line and the description: {summary:?}"
        );
        let description = op["description"].as_str().unwrap_or_default();
        assert!(
            description.len() > 10 && description != summary,
            "{method} {path}: no description (the doc comment after its first line)"
        );
    }
}

#[test]
fn answers_declare_the_headers_they_send() {
    let raw = committed();
    let headers = &raw["components"]["headers"];
    for name in [
        "X-Request-Id",
        "Idempotent-Replayed",
        "Retry-After",
        "Location",
        "ETag",
    ] {
        assert!(
            headers[name]["schema"].is_object(),
            "components.headers.{name}"
        );
    }
    let spec = crate::helpers::spec();
    let at = |name: &str| serde_json::json!({"$ref": format!("#/components/headers/{name}")});
    let mut locations = BTreeSet::new();
    for (method, path, op) in ops(&spec) {
        let idempotent = op["parameters"]
            .as_array()
            .is_some_and(|ps| ps.iter().any(|p| p["name"] == "Idempotency-Key"));
        for (status, response) in op["responses"].as_object().unwrap() {
            let h = &response["headers"];
            assert_eq!(
                h["X-Request-Id"],
                at("X-Request-Id"),
                "{method} {path} {status}"
            );
            if status == "429" || status == "503" {
                assert_eq!(
                    h["Retry-After"],
                    at("Retry-After"),
                    "{method} {path} {status}"
                );
            }
            if idempotent && status.starts_with('2') {
                assert_eq!(
                    h["Idempotent-Replayed"],
                    at("Idempotent-Replayed"),
                    "{method} {path} {status}"
                );
            }
            if response["content"]["application/pdf"].is_object() {
                assert_eq!(h["ETag"], at("ETag"), "{method} {path} {status}");
            }
            if !h["Location"].is_null() {
                assert_eq!(h["Location"], at("Location"), "{method} {path} {status}");
                locations.insert(op["operationId"].as_str().unwrap().to_string());
            }
        }
    }
    assert!(locations.contains("create_invoice_export"), "{locations:?}");
    assert!(locations.contains("create_pro_forma"), "{locations:?}");
}

#[tokio::test]
async fn every_answer_carries_a_request_id_as_declared() {
    let app = crate::helpers::TestApp::spawn().await;
    for (path, status) in [
        ("/v1/openapi.json", 200),
        ("/v1/me", 401),
        ("/v1/nothing-here", 404),
    ] {
        let res = app.get(path).await;
        assert_eq!(res.status(), status, "{path}");
        let id = res.headers().get("x-request-id");
        assert!(id.is_some_and(|v| !v.is_empty()), "{path}: no X-Request-Id");
    }
}

#[test]
fn ids_have_their_real_shape() {
    let spec = committed();
    let schemas = &spec["components"]["schemas"];
    let pattern = |schema: &str, prop: &str| {
        let s = &schemas[schema]["properties"][prop];
        let s = if s["pattern"].is_null() {
            s["oneOf"]
                .as_array()
                .and_then(|p| p.iter().find(|p| !p["pattern"].is_null()))
                .unwrap_or(s)
        } else {
            s
        };
        s["pattern"].as_str().unwrap_or_default().to_string()
    };
    assert_eq!(pattern("OrganizationView", "id"), "^org_[0-9a-f]{32}$");
    assert_eq!(pattern("InvoiceView", "order_id"), "^ord_[0-9a-f]{32}$");
    assert_eq!(
        pattern("PaymentMethodView", "id"),
        "^(prepaid|pm_[0-9a-f]{32})$"
    );
    // Every `id` and `…_id` of an answer has one, or is listed here with its reason.
    let loose = [
        "ActivityView.actor_user_id", // a pseudonym once the account is deleted
        "ActivityView.subject_user_id", // idem
        "Problem.request_id",         // the client's own X-Request-Id may be kept
        "OfferView.id",               // catalogue offers are named (`hosting-basic`)
        "OrderItem.offer_id",
        "ProFormaItem.offer_id",
        "ProductView.offer_id",
        "AvailabilityOffer.id",
        "NewsletterTopic.id",          // named topics
        "FeedbackService.id",          // named services (`kdrive`)
        "WebhookEvent.id",             // the payment provider's ids
        "ChainReport.chain_id",        // an activity chain: `org_…` or `user_…`
        "BlockingObject.id",           // any kind of object
        "BrokenRecord.id",             // an activity record (`act_…`) or a legacy one
        "MoveProduct.organization_id", // a request: an unknown one is a 404
        "RenewalTerm.product_id",
        "RenewalItemInput.product_id",
        "AutoRenewalsSetting.product_ids",
        "AutoRenewalsSetting.payment_method_id",
        "AutoRenewalSetting.payment_method_id",
        "PaymentInput.payment_method_id",
        "TopUpRequest.payment_method_id",
        "ProFormaItem.product_id",
    ];
    let mut without = Vec::new();
    for (name, schema) in schemas.as_object().unwrap() {
        for (prop, s) in schema["properties"].as_object().into_iter().flatten() {
            let at = format!("{name}.{prop}");
            let is_id = prop == "id" || prop.ends_with("_id") || prop.ends_with("_ids");
            if is_id && !loose.contains(&at.as_str()) {
                let text = s.to_string();
                if !text.contains("[0-9a-f]{32}") {
                    without.push(at);
                }
            }
        }
    }
    assert!(
        without.is_empty(),
        "ids without their pattern: {without:#?}"
    );
    let text = COMMITTED;
    assert!(
        !text.contains(
            r#""pattern": "^[^\\x00]*$",
            "example": "org_"#
        ),
        "an org id with the NUL-only pattern"
    );
}

#[tokio::test]
async fn real_ids_match_the_patterns_the_spec_declares() {
    let app = crate::helpers::TestApp::spawn().await;
    let (_, s) = app.signed_in("shapes@example.com").await;
    let org = app.create_org(&s, "Shapes").await;
    let spec = committed();
    // `^<prefix>_[0-9a-f]{32}$`, checked without a regex engine.
    let pattern = |schema: &str| {
        let p = spec["components"]["schemas"][schema]["properties"]["id"]["pattern"]
            .as_str()
            .unwrap()
            .to_string();
        let prefix = p
            .strip_prefix('^')
            .and_then(|p| p.strip_suffix("_[0-9a-f]{32}$"))
            .unwrap_or_else(|| panic!("{schema}: {p}"))
            .to_string();
        IdShape(prefix)
    };
    struct IdShape(String);
    impl IdShape {
        fn is_match(&self, id: &str) -> bool {
            id.strip_prefix(self.0.as_str())
                .and_then(|r| r.strip_prefix('_'))
                .is_some_and(|hex| {
                    hex.len() == 32
                        && hex
                            .bytes()
                            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
                })
        }
    }
    assert!(pattern("OrganizationView").is_match(&org), "{org}");
    let me: Value = crate::helpers::send(&app, reqwest::Method::GET, "/v1/me", &s, None)
        .await
        .json()
        .await
        .unwrap();
    assert!(pattern("Me").is_match(me["id"].as_str().unwrap()), "{me}");
    let sessions: Value =
        crate::helpers::send(&app, reqwest::Method::GET, "/v1/me/sessions", &s, None)
            .await
            .json()
            .await
            .unwrap();
    let session = sessions["data"][0]["id"].as_str().unwrap();
    assert!(pattern("SessionView").is_match(session), "{sessions}");
}

#[test]
fn shared_parameters_and_answers_are_declared_once() {
    let spec = committed();
    let components = &spec["components"];
    let mut inline_org = 0;
    let mut refs = 0;
    for (method, path, op) in ops(&spec) {
        for p in op["parameters"].as_array().into_iter().flatten() {
            if p.get("$ref").is_some() {
                refs += 1;
                continue;
            }
            for (name, shared) in components["parameters"].as_object().unwrap() {
                assert_ne!(p, shared, "{method} {path}: a copy of parameters/{name}");
            }
            if p["name"] == "org_id" {
                inline_org += 1;
            }
        }
        for (status, r) in op["responses"].as_object().unwrap() {
            for (name, shared) in components["responses"].as_object().unwrap() {
                assert_ne!(
                    r, shared,
                    "{method} {path} {status}: a copy of responses/{name}"
                );
            }
        }
    }
    assert_eq!(inline_org, 0);
    assert!(refs > 100, "{refs}");
    for name in ["OrgId", "Cursor", "Limit", "IdempotencyKey"] {
        assert!(
            components["parameters"][name].is_object(),
            "parameters/{name}"
        );
    }
    for name in [
        "InternalError",
        "UriTooLong",
        "Unauthenticated",
        "ValidationFailed",
    ] {
        assert!(
            components["responses"][name].is_object(),
            "responses/{name}"
        );
    }
    // 1 MB before issue 14 part 8; ~600 KB after; + ~60 KB for the `webhooks` section (20
    // event types, their envelopes and change facts; shared headers and data parts).
    assert!(COMMITTED.len() < 760_000, "{} bytes", COMMITTED.len());
}

// --- OpenAPI links (api/openapi_links.rs), followed by the contract run's stateful phase -------

/// Follows `$ref`s (to components) until a value that is not one.
fn deref<'a>(spec: &'a serde_json::Value, mut v: &'a serde_json::Value) -> &'a serde_json::Value {
    while let Some(r) = v.get("$ref").and_then(|r| r.as_str()) {
        let pointer = r.strip_prefix('#').expect("a local $ref");
        v = spec
            .pointer(pointer)
            .unwrap_or_else(|| panic!("{r} resolves"));
    }
    v
}

/// Every operation of the spec by id: (path, operation).
fn operations(
    spec: &serde_json::Value,
) -> std::collections::HashMap<&str, (&str, &serde_json::Value)> {
    let mut ops = std::collections::HashMap::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for op in item.as_object().unwrap().values() {
            if let Some(id) = op["operationId"].as_str() {
                ops.insert(id, (path.as_str(), op));
            }
        }
    }
    ops
}

/// The names of an operation's parameters in `location`.
fn parameter_names<'a>(
    spec: &'a serde_json::Value,
    op: &'a serde_json::Value,
    location: &str,
) -> std::collections::BTreeSet<&'a str> {
    op["parameters"]
        .as_array()
        .map(|ps| ps.as_slice())
        .unwrap_or_default()
        .iter()
        .map(|p| deref(spec, p))
        .filter(|p| p["in"] == location)
        .filter_map(|p| p["name"].as_str())
        .collect()
}

/// Whether the JSON pointer `pointer` can hold a value in a body of `schema` (through `$ref`,
/// `allOf`/`oneOf`/`anyOf`, object properties and array items).
fn schema_has(spec: &serde_json::Value, schema: &serde_json::Value, pointer: &[&str]) -> bool {
    let schema = deref(spec, schema);
    let Some((head, rest)) = pointer.split_first() else {
        return true;
    };
    let combined = ["allOf", "oneOf", "anyOf"].iter().any(|k| {
        schema[*k]
            .as_array()
            .is_some_and(|alts| alts.iter().any(|s| schema_has(spec, s, pointer)))
    });
    let in_properties = schema["properties"]
        .get(*head)
        .is_some_and(|s| schema_has(spec, s, rest));
    let in_items = head.parse::<usize>().is_ok()
        && schema
            .get("items")
            .is_some_and(|s| schema_has(spec, s, rest));
    combined || in_properties || in_items
}

/// Every link names an existing operation and gives it only parameters it takes, all its path
/// parameters, from values the answer holds: a path parameter of the request, or a field of the
/// answer's JSON body. A generated client or the stateful contract run would otherwise follow
/// a link into an error.
#[test]
fn every_link_leads_to_an_operation_with_values_the_answer_holds() {
    let spec: serde_json::Value = serde_json::from_str(COMMITTED).unwrap();
    let ops = operations(&spec);
    let mut count = 0;
    for (from, (path, op)) in &ops {
        for (status, answer) in op["responses"].as_object().unwrap() {
            let answer = deref(&spec, answer);
            let Some(links) = answer.get("links").and_then(|l| l.as_object()) else {
                continue;
            };
            assert!(
                status.starts_with('2'),
                "{from} {status}: a link from an error answer"
            );
            for (name, link) in links {
                count += 1;
                let link = deref(&spec, link);
                let where_ = format!("{from} ({path}) {status} link {name}");
                let to = link["operationId"]
                    .as_str()
                    .unwrap_or_else(|| panic!("{where_}: no operationId"));
                let (_, target) = ops
                    .get(to)
                    .unwrap_or_else(|| panic!("{where_}: no operation {to}"));
                let given = link["parameters"]
                    .as_object()
                    .unwrap_or_else(|| panic!("{where_}: no parameters"));
                let taken: std::collections::BTreeSet<&str> = ["path", "query", "header"]
                    .iter()
                    .flat_map(|l| parameter_names(&spec, target, l))
                    .collect();
                for needed in parameter_names(&spec, target, "path") {
                    assert!(
                        given.contains_key(needed),
                        "{where_}: {to}'s path parameter {needed} is not given"
                    );
                }
                for (param, expr) in given {
                    assert!(
                        taken.contains(param.as_str()),
                        "{where_}: {to} takes no parameter {param}"
                    );
                    let expr = expr.as_str().unwrap_or_else(|| panic!("{where_}: {param}"));
                    if let Some(source) = expr.strip_prefix("$request.path.") {
                        assert!(
                            parameter_names(&spec, op, "path").contains(source),
                            "{where_}: {from} has no path parameter {source} for {param}"
                        );
                    } else if let Some(pointer) = expr.strip_prefix("$response.body#/") {
                        let schema = answer
                            .pointer("/content/application~1json/schema")
                            .unwrap_or_else(|| {
                                panic!("{where_}: {param} from a body that is not JSON")
                            });
                        let pointer: Vec<&str> = pointer.split('/').collect();
                        assert!(
                            schema_has(&spec, schema, &pointer),
                            "{where_}: {param} from {expr}, which the body of {from} {status} does not hold"
                        );
                    } else {
                        panic!(
                            "{where_}: {param} = {expr}, neither a request path parameter nor a body field"
                        );
                    }
                }
            }
        }
    }
    assert_eq!(
        count,
        leman::openapi_links::LINKS.len(),
        "every link of the table is in the spec, once (a source operation or status missing?)"
    );
}

/// Each operation that addresses one resource by id (beyond its organisation) is reached by a
/// link, so the stateful phase of the contract run can call it with an id the API gave out.
#[test]
fn every_operation_on_one_resource_is_the_target_of_a_link() {
    let spec: serde_json::Value = serde_json::from_str(COMMITTED).unwrap();
    let ops = operations(&spec);
    let targets: std::collections::BTreeSet<&str> =
        leman::openapi_links::LINKS.iter().map(|l| l.to).collect();
    // end_session: the contract run calls it apart, as its own user (it ends a session).
    let exempt = ["end_session"];
    let mut unreached: Vec<&str> = ops
        .iter()
        .filter(|(_, (_, op))| {
            parameter_names(&spec, op, "path")
                .iter()
                .any(|p| *p != "org_id")
        })
        .map(|(id, _)| *id)
        .filter(|id| !targets.contains(id) && !exempt.contains(id))
        .collect();
    unreached.sort_unstable();
    assert!(unreached.is_empty(), "no link leads to {unreached:?}");
}

/// Issue 14: every webhook event type is described under the top-level `webhooks` (OpenAPI
/// 3.1), a POST whose body is its envelope with `data` the resource's view by `$ref`, with the
/// Standard Webhooks headers and a 2xx answer.
#[test]
fn every_webhook_event_type_is_described_under_webhooks() {
    use leman::domain::webhooks::WebhookEventType;
    let spec = committed();
    let webhooks = spec["webhooks"].as_object().expect("a `webhooks` section");
    assert_eq!(
        webhooks.len(),
        WebhookEventType::ALL.len(),
        "{:?}",
        webhooks.keys()
    );
    let parameters = &spec["components"]["parameters"];
    for t in WebhookEventType::ALL {
        let op = &webhooks
            .get(t.as_str())
            .unwrap_or_else(|| panic!("{t} is not under `webhooks`"))["post"];
        let mut headers: Vec<&str> = op["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                let name = p["$ref"].as_str().unwrap().rsplit('/').next().unwrap();
                let p = &parameters[name];
                assert_eq!(p["in"], "header", "{t}: {p}");
                assert_eq!(p["required"], true, "{t}: {p}");
                p["name"].as_str().unwrap()
            })
            .collect();
        headers.sort();
        assert_eq!(
            headers,
            ["webhook-id", "webhook-signature", "webhook-timestamp"],
            "{t}"
        );
        let body = deref(
            &spec,
            &op["requestBody"]["content"]["application/json"]["schema"],
        );
        assert_eq!(body["properties"]["type"]["const"], t.as_str(), "{t}");
        assert_eq!(
            body["required"],
            serde_json::json!(["type", "timestamp", "data"])
        );
        let view = body["properties"]["data"]["allOf"][0]["$ref"]
            .as_str()
            .unwrap_or_else(|| panic!("{t}: data names no view"));
        let name = view.strip_prefix("#/components/schemas/").unwrap();
        assert!(
            spec["components"]["schemas"][name].is_object(),
            "{t}: {name} is no component"
        );
        assert!(
            op["responses"]
                .as_object()
                .unwrap()
                .keys()
                .any(|k| k.starts_with('2')),
            "{t}: no 2xx answer"
        );
    }
}
