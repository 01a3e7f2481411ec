//! Issue 9 (outside attack), findings 3, 9, 10 and 11: what an outsider could do to the process
//! through labels, bodies, cursors and headers.

use base64::Engine as _;
use reqwest::Method;
use serde_json::json;

use crate::helpers::{TestApp, ok, operations, problem, send, send_with, spec};

/// Finding 9: every bypass of the card-number scan found by the attack is refused in a stored
/// text (an organisation's name and address, a label), and nothing is stored.
#[tokio::test]
async fn f9_card_numbers_written_around_the_scan_are_refused_in_names_and_addresses() {
    let app = TestApp::spawn().await;
    let (_, s) = app.signed_in("f9@example.com").await;
    let bypasses = [
        "4242.4242.4242.4242",
        "4242/4242/4242/4242",
        "4242_4242_4242_4242",
        "4242  4242  4242  4242",
        "4242\u{00A0}4242\u{00A0}4242\u{00A0}4242",
        "４２４２４２４２４２４２４２４２",
        "card4242424242424242",
    ];
    for text in bypasses {
        for body in [
            json!({"name": text, "country": "CH", "currency": "CHF",
                   "billing_address": {"line1": "Rue du Rhône 12", "postal_code": "1204", "city": "Genève"}}),
            json!({"name": "Acme", "country": "CH", "currency": "CHF",
                   "billing_address": {"line1": text, "postal_code": "1204", "city": "Genève"}}),
        ] {
            let res = send(&app, Method::POST, "/v1/orgs", &s, Some(body)).await;
            let p = problem(res, 422, "card_data_not_accepted").await;
            assert!(!p.to_string().contains("4242"), "{p}");
        }
    }
    let orgs = ok(
        send(&app, Method::GET, "/v1/me/organizations", &s, None).await,
        200,
    )
    .await;
    assert_eq!(orgs["data"], json!([]), "nothing was stored");
    // Ids and ordinary numbers still pass.
    let org = app
        .create_org(&s, "Acme 2026-000001 +41 79 123 45 67")
        .await;
    assert!(org.starts_with("org_"));
}

/// Finding 10: a cursor whose timestamp PostgreSQL cannot hold is the usual 422 on every list of
/// the spec (every operation with a `cursor` parameter), never a 500.
#[tokio::test]
async fn f10_a_crafted_cursor_is_a_422_on_every_list_route() {
    let app = TestApp::spawn().await;
    let (_, s) = app.signed_in("f10@example.com").await;
    let org = app.create_org(&s, "Cursors").await;
    let spec = spec();
    let crafted = [
        "-8210298412800000001|x",
        "-8210298412800000001|act_01936d7a6b2f7c3e9d4a5b6c7d8e9f00",
        "9223372036854775807|x",
        "1764147600000000|x'; --",
    ]
    .map(|raw| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw));
    let mut lists = 0;
    for (method, path, op) in operations(&spec) {
        let takes_cursor = op["parameters"]
            .as_array()
            .is_some_and(|ps| ps.iter().any(|p| p["name"] == "cursor"));
        if !takes_cursor {
            continue;
        }
        assert_eq!(method, "get", "{path}");
        lists += 1;
        let mut path = path.replace("{org_id}", &org);
        if path.contains("{webhook_endpoint_id}") {
            // A literal public address passes the webhook address check without a lookup.
            let endpoint = ok(
                send(
                    &app,
                    Method::POST,
                    &format!("/v1/orgs/{org}/webhook-endpoints"),
                    &s,
                    Some(serde_json::json!({"url": "https://1.1.1.1/hooks", "event_types": ["invoice.paid"]})),
                )
                .await,
                201,
            )
            .await;
            path = path.replace("{webhook_endpoint_id}", endpoint["id"].as_str().unwrap());
        }
        assert!(!path.contains('{'), "{path} has another parameter");
        // The list answers without a cursor.
        ok(
            send(&app, Method::GET, &format!("{path}?limit=1"), &s, None).await,
            200,
        )
        .await;
        for cursor in &crafted {
            let res = send(
                &app,
                Method::GET,
                &format!("{path}?cursor={cursor}"),
                &s,
                None,
            )
            .await;
            let p = problem(res, 422, "validation_failed").await;
            assert_eq!(p["errors"][0]["field"], "cursor", "{path}: {p}");
        }
    }
    assert_eq!(lists, 15, "every list of the spec was tried");
}

/// Finding 3: made-up methods and paths add no series to the metrics (each was a label, and
/// 500 long methods grew /metrics from 3 MB to 68 MB): every label is from a closed set.
#[tokio::test]
async fn f3_a_thousand_made_up_methods_and_paths_leave_the_metrics_size_unchanged() {
    use futures_util::StreamExt as _;
    let app = TestApp::spawn().await;
    let junk = |i: usize| {
        let app = &app;
        async move {
            let method =
                Method::from_bytes(format!("MADEUP{i}{}", "X".repeat(i % 50)).as_bytes()).unwrap();
            let res = app
                .client
                .request(method, app.url(&format!("/made-up/{i}")))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 404);
            let res = app
                .client
                .request(
                    Method::from_bytes(format!("PROBE{i}").as_bytes()).unwrap(),
                    app.url("/healthz"),
                )
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 405);
            let res = app.get(&format!("/v1/orgs/org_{i}/made-up-{i}")).await;
            assert_eq!(res.status(), 404);
        }
    };
    let size = || async { app.get("/metrics").await.text().await.unwrap() };
    // Every series the junk touches exists once before measuring.
    junk(0).await;
    size().await;
    let before = size().await;
    futures_util::stream::iter(1..=1000)
        .for_each_concurrent(8, junk)
        .await;
    let after = size().await;
    assert!(
        after.len() <= before.len() + 512,
        "/metrics grew from {} to {} bytes",
        before.len(),
        after.len()
    );
    assert!(
        after.contains(
            r#"leman_http_requests_total{method="other",route="unmatched",status="404"} 1001"#
        ),
        "{after}"
    );
    assert!(
        !after.contains("MADEUP") && !after.contains("made-up"),
        "{after}"
    );
}

/// Finding 11: `nosniff` on every answer, `no-store` on every answer to a request with
/// credentials (the spec and the docs stay cacheable).
#[tokio::test]
async fn f11_every_answer_is_nosniff_and_every_authenticated_one_no_store() {
    let app = TestApp::spawn().await;
    let (_, s) = app.signed_in("f11-headers@example.com").await;
    let header = |res: &reqwest::Response, name: &str| {
        res.headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
    };
    for path in [
        "/healthz",
        "/v1/openapi.json",
        "/docs/",
        "/v1/nope",
        "/v1/me",
    ] {
        let res = app.get(path).await;
        assert_eq!(
            header(&res, "x-content-type-options").as_deref(),
            Some("nosniff"),
            "{path}"
        );
        assert_ne!(
            header(&res, "cache-control").as_deref(),
            Some("no-store"),
            "{path}"
        );
    }
    for path in ["/v1/me", "/v1/me/organizations", "/v1/nope", "/healthz"] {
        let res = send(&app, Method::GET, path, &s, None).await;
        assert_eq!(
            header(&res, "x-content-type-options").as_deref(),
            Some("nosniff"),
            "{path}"
        );
        assert_eq!(
            header(&res, "cache-control").as_deref(),
            Some("no-store"),
            "{path}"
        );
    }
    let res = send(&app, Method::GET, "/v1/me", "not-a-token", None).await;
    assert_eq!(res.status(), 401);
    assert_eq!(header(&res, "cache-control").as_deref(), Some("no-store"));
    // HSTS only where the browser reached us over TLS: plain HTTP (development) has none, a TLS
    // proxy's `X-Forwarded-Proto: https` or `Forwarded: proto=https` gives one year.
    let res = app.get("/healthz").await;
    assert_eq!(header(&res, "strict-transport-security"), None);
    for (name, value) in [("x-forwarded-proto", "https"), ("forwarded", "proto=https")] {
        let res = app
            .client
            .get(app.url("/healthz"))
            .header(name, value)
            .send()
            .await
            .unwrap();
        assert_eq!(
            header(&res, "strict-transport-security").as_deref(),
            Some("max-age=31536000; includeSubDomains"),
            "{name}"
        );
    }
}

/// Finding 11: /metrics answers only the addresses of `LEMAN_METRICS_ALLOW` (loopback by
/// default) and the bearer of `LEMAN_METRICS_TOKEN`; anyone else gets the 404 of an unknown route.
#[tokio::test]
async fn f11_metrics_answer_only_allowed_addresses_or_the_metrics_token() {
    const TOKEN: &str = "metrics-token-0123456789abcdefghijkl";
    let app = TestApp::builder()
        .env("LEMAN_METRICS_ALLOW", "10.0.0.0/8")
        .env("LEMAN_METRICS_TOKEN", TOKEN)
        .spawn()
        .await;
    let p = problem(app.get("/metrics").await, 404, "not_found").await;
    assert_eq!(p["detail"], "No route matches /metrics.");
    for wrong in ["nope", &TOKEN[1..], &format!("{TOKEN}x")] {
        let res = send(&app, Method::GET, "/metrics", wrong, None).await;
        problem(res, 404, "not_found").await;
    }
    let res = send(&app, Method::GET, "/metrics", TOKEN, None).await;
    assert_eq!(res.status(), 200);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("leman_http_requests_total")
    );

    // Loopback by default; a forwarded outsider is not loopback, even through a local proxy.
    let app = TestApp::builder()
        .env("LEMAN_TRUST_PROXY", "true")
        .spawn()
        .await;
    assert_eq!(app.get("/metrics").await.status(), 200);
    let res = app
        .client
        .get(app.url("/metrics"))
        .header("X-Forwarded-For", "203.0.113.5")
        .send()
        .await
        .unwrap();
    problem(res, 404, "not_found").await;
}

/// Finding 11, reviewed: the metrics' address rule cannot be met by a forwarding header. Behind a
/// proxy on the same host every peer is loopback, so a request that came through a proxy the
/// server does not trust is nobody's by address; behind a trusted proxy that appends to
/// `X-Forwarded-For`, a client's own `127.0.0.1` in front of its real address does not pass.
#[tokio::test]
async fn f11_metrics_cannot_be_reached_by_a_forged_or_proxied_loopback_address() {
    let via = |app: &TestApp, name: &'static str, value: &'static str| {
        app.client
            .get(app.url("/metrics"))
            .header(name, value)
            .send()
    };
    // The default: no proxy trusted, loopback allowed; a local proxy forwards an outsider.
    let app = TestApp::spawn().await;
    assert_eq!(app.get("/metrics").await.status(), 200);
    for (name, value) in [
        ("X-Forwarded-For", "203.0.113.5"),
        ("X-Forwarded-For", "127.0.0.1"),
        ("Forwarded", "for=203.0.113.5"),
        ("X-Real-IP", "203.0.113.5"),
    ] {
        problem(via(&app, name, value).await.unwrap(), 404, "not_found").await;
    }
    // A trusted proxy appending the real client's address to what the client sent.
    let app = TestApp::builder()
        .env("LEMAN_TRUST_PROXY", "true")
        .spawn()
        .await;
    for (name, value) in [
        ("X-Forwarded-For", "127.0.0.1, 203.0.113.5"),
        ("Forwarded", "for=127.0.0.1, for=203.0.113.5"),
        ("X-Forwarded-For", "127.0.0.1, not-an-address"),
    ] {
        problem(via(&app, name, value).await.unwrap(), 404, "not_found").await;
    }
    assert_eq!(
        via(&app, "X-Forwarded-For", "127.0.0.1")
            .await
            .unwrap()
            .status(),
        200
    );
}

/// Finding 11: a stored idempotent answer of an organisation is not replayed to a caller who is
/// no longer its member: the route's own 404.
#[tokio::test]
async fn f11_an_idempotent_answer_is_not_replayed_to_a_caller_who_left_the_organisation() {
    let app = TestApp::spawn().await;
    let (_, owner) = app.signed_in("f11-owner@example.com").await;
    let (user, s) = app.signed_in("f11-accountant@example.com").await;
    let org = app.create_org(&owner, "Replays").await;
    app.add_member(&org, &user.id, "member", &["accounting"])
        .await;
    let path = format!("/v1/orgs/{org}/payment-methods");
    let keyed = || {
        send_with(
            &app,
            Method::POST,
            &path,
            &s,
            Some(json!({"type": "card", "token": "tok_visa"})),
            &[("Idempotency-Key", "f11-replay")],
        )
    };
    let first = ok(keyed().await, 201).await;
    let res = keyed().await;
    assert_eq!(res.headers()["idempotent-replayed"], "true");
    assert_eq!(ok(res, 201).await, first);
    // Leaving, retried with its key, still replays its own answer.
    let leave_path = format!("/v1/orgs/{org}/leave");
    let leave = || {
        send_with(
            &app,
            Method::POST,
            &leave_path,
            &s,
            None,
            &[("Idempotency-Key", "f11-leave")],
        )
    };
    assert_eq!(leave().await.status(), 204);
    let res = leave().await;
    assert_eq!(res.status(), 204);
    assert_eq!(res.headers()["idempotent-replayed"], "true");
    let res = keyed().await;
    assert!(res.headers().get("idempotent-replayed").is_none());
    let p = problem(res, 404, "not_found").await;
    assert_eq!(p["detail"], "No such organisation.");
    assert!(!p.to_string().contains(first["id"].as_str().unwrap()));
}

/// Finding 11: a refused CORS preflight and an over-long URL answer problem+json.
#[tokio::test]
async fn f11_a_refused_preflight_and_an_over_long_url_are_problems() {
    let app = TestApp::builder()
        .env("LEMAN_CORS_ORIGINS", "https://panel.example.com")
        .spawn()
        .await;
    for (origin, method) in [
        ("https://evil.example", "POST"),
        ("https://panel.example.com", "TRACE"),
    ] {
        let res = app
            .client
            .request(Method::OPTIONS, app.url("/v1/orgs"))
            .header("Origin", origin)
            .header("Access-Control-Request-Method", method)
            .send()
            .await
            .unwrap();
        let p = problem(res, 400, "cors_refused").await;
        assert!(p["detail"].as_str().unwrap().contains("not allowed"), "{p}");
    }
    let long = "a".repeat(9 * 1024);
    for path in [format!("/healthz?x={long}"), format!("/v1/{long}")] {
        let p = problem(app.get(&path).await, 414, "uri_too_long").await;
        assert!(!p.to_string().contains(&long));
    }
    // Up to the limit, as before.
    assert_eq!(
        app.get(&format!("/healthz?x={}", "a".repeat(8000)))
            .await
            .status(),
        200
    );
}
