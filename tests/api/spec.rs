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
