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
    let spec: serde_json::Value = serde_json::from_str(COMMITTED).unwrap();
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
    let spec: serde_json::Value = serde_json::from_str(COMMITTED).unwrap();
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
