//! Issue 9 (outside attack), findings 3, 9, 10 and 11: what an outsider could do to the process
//! through labels, bodies, cursors and headers.

use base64::Engine as _;
use reqwest::Method;
use serde_json::json;

use crate::helpers::{TestApp, ok, operations, problem, send, spec};

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
    let orgs = ok(send(&app, Method::GET, "/v1/me/organizations", &s, None).await, 200).await;
    assert_eq!(orgs["data"], json!([]), "nothing was stored");
    // Ids and ordinary numbers still pass.
    let org = app.create_org(&s, "Acme 2026-000001 +41 79 123 45 67").await;
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
        let path = path.replace("{org_id}", &org);
        assert!(!path.contains('{'), "{path} has another parameter");
        // The list answers without a cursor.
        ok(send(&app, Method::GET, &format!("{path}?limit=1"), &s, None).await, 200).await;
        for cursor in &crafted {
            let res = send(&app, Method::GET, &format!("{path}?cursor={cursor}"), &s, None).await;
            let p = problem(res, 422, "validation_failed").await;
            assert_eq!(p["errors"][0]["field"], "cursor", "{path}: {p}");
        }
    }
    assert_eq!(lists, 10, "every list of the spec was tried");
}
