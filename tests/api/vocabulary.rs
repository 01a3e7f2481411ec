//! Issue 10: the spec shows every state, kind, role and filter as an enum, never a bare string.

/// Properties and parameters that hold a state or a kind.
const TYPED: [&str; 9] = [
    "status", "state", "kind", "role", "type", "method", "action", "language", "currency",
];

/// Strings that are not states: the problem's type is a URI; the provider's webhook event type is
/// the provider's vocabulary (an unknown one is accepted and ignored, never refused).
const NOT_STATES: [&str; 2] = ["Problem.type", "WebhookEvent.type"];

/// Whether a schema is a bare string (no enum, no $ref, no const), looking through nullable
/// forms (`oneOf`/`anyOf` with null, `type: ["string", "null"]`) and arrays.
fn bare_string(schema: &serde_json::Value) -> bool {
    if schema.get("$ref").is_some() || schema.get("enum").is_some() || schema.get("const").is_some()
    {
        return false;
    }
    if let Some(items) = schema.get("items") {
        return bare_string(items);
    }
    for key in ["oneOf", "anyOf", "allOf"] {
        if let Some(parts) = schema.get(key).and_then(|p| p.as_array()) {
            return parts.iter().any(bare_string);
        }
    }
    match schema.get("type") {
        Some(serde_json::Value::String(t)) => t == "string",
        Some(serde_json::Value::Array(ts)) => ts.iter().any(|t| t == "string"),
        _ => false,
    }
}

#[test]
fn v10_no_state_kind_or_role_is_a_bare_string_in_the_spec() {
    let spec = crate::helpers::spec();
    let mut bare = Vec::new();
    for (name, schema) in spec["components"]["schemas"].as_object().unwrap() {
        if let Some(props) = schema["properties"].as_object() {
            for (prop, s) in props {
                let at = format!("{name}.{prop}");
                if TYPED.contains(&prop.as_str())
                    && bare_string(s)
                    && !NOT_STATES.contains(&at.as_str())
                {
                    bare.push(at);
                }
            }
        }
    }
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            for p in op["parameters"].as_array().into_iter().flatten() {
                let name = p["name"].as_str().unwrap_or_default();
                if p["in"] == "query" && TYPED.contains(&name) && bare_string(&p["schema"]) {
                    bare.push(format!("{method} {path} ?{name}="));
                }
            }
        }
    }
    assert!(
        bare.is_empty(),
        "bare strings where an enum belongs: {bare:#?}"
    );
}
