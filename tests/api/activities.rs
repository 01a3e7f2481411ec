//! The user's activity log (R13): newest first, cursor pages, filters by day, action type and
//! product, and a text search.

use std::collections::HashSet;

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, create_token, problem, send, send_with};

async fn page(app: &TestApp, token: &str, query: &str) -> Value {
    let res = send(
        app,
        Method::GET,
        &format!("/v1/me/activities{query}"),
        token,
        None,
    )
    .await;
    assert_eq!(res.status(), 200, "{query}");
    res.json().await.unwrap()
}

fn actions(page: &Value) -> Vec<String> {
    page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["action"].as_str().unwrap().to_string())
        .collect()
}

/// Records an activity directly, at a chosen time.
async fn insert(
    app: &TestApp,
    actor: &str,
    subject: Option<&str>,
    action: &str,
    product: Option<&str>,
    at: &str,
    details: Value,
) {
    let row = leman::models::activities::Activity {
        id: leman::db::new_id("act"),
        actor_user_id: Some(actor.to_string()),
        subject_user_id: subject.map(str::to_string),
        organization_id: None,
        product_id: product.map(str::to_string),
        action: action.to_string(),
        details: details.to_string(),
        ip: Some("198.51.100.4".into()),
        user_agent: Some("curl/8.5.0".into()),
        actor_name: None,
        created_at: chrono::NaiveDateTime::parse_from_str(at, "%Y-%m-%d %H:%M:%S").unwrap(),
        // Outside any hash chain: these rows are placed at chosen times, not recorded.
        chain_id: None,
        seq: None,
        actor_digest: None,
        subject_digest: None,
        prev_hash: None,
        hash: None,
    };
    app.with_conn(move |c| leman::models::activities::insert(c, &row).unwrap())
        .await;
}

#[tokio::test]
async fn r13_the_log_pages_newest_first_without_gaps_or_duplicates() {
    let app = TestApp::spawn().await;
    let (user, session) = app.signed_in("zoe@example.ch").await;
    let topics = ["offers", "tips", "events"];
    for i in 0..12 {
        let res = send_with(
            &app,
            Method::PUT,
            "/v1/me/newsletter-subscriptions",
            &session,
            Some(json!({"topics": [topics[i % 3]]})),
            &[("User-Agent", "Leman-Test/1.0")],
        )
        .await;
        assert_eq!(res.status(), 200);
    }
    let expected = app.activities_of(&user.id).await;
    assert_eq!(expected.len(), 14);

    let mut seen: Vec<Value> = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let query = match &cursor {
            Some(c) => format!("?limit=5&cursor={c}"),
            None => "?limit=5".to_string(),
        };
        let body = page(&app, &session.access_token, &query).await;
        let data = body["data"].as_array().unwrap();
        assert!(data.len() <= 5);
        seen.extend(data.iter().cloned());
        pages += 1;
        match body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    let ids: HashSet<&str> = seen.iter().map(|a| a["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), seen.len(), "no duplicates");
    let mut listed: Vec<String> = seen
        .iter()
        .map(|a| a["action"].as_str().unwrap().to_string())
        .collect();
    listed.reverse();
    assert_eq!(listed, expected, "every record, newest first");
    let times: Vec<&str> = seen
        .iter()
        .map(|a| a["created_at"].as_str().unwrap())
        .collect();
    let mut sorted = times.clone();
    sorted.sort_by(|a, b| {
        chrono::DateTime::parse_from_rfc3339(b)
            .unwrap()
            .cmp(&chrono::DateTime::parse_from_rfc3339(a).unwrap())
    });
    assert_eq!(times, sorted);

    let newest = &seen[0];
    assert_eq!(newest["action"], "newsletters.updated");
    assert_eq!(newest["actor_user_id"], user.id.as_str());
    assert_eq!(newest["details"]["topics"], json!(["events"]));
    assert_eq!(newest["ip"], "127.0.0.1");
    assert_eq!(newest["user_agent"], "Leman-Test/1.0");
    assert!(newest["subject_user_id"].is_null() && newest["product_id"].is_null());

    // The default page is 20: everything at once here.
    let all = page(&app, &session.access_token, "").await;
    assert_eq!(all["data"].as_array().unwrap().len(), 14);
    assert!(all["next_cursor"].is_null());
}

#[tokio::test]
async fn r13_the_log_shows_what_the_user_did_or_was_subject_to_and_nothing_else() {
    let app = TestApp::spawn().await;
    let (alice, session) = app.signed_in("alice@example.ch").await;
    let (bob, _) = app.signed_in("bob@example.ch").await;
    insert(
        &app,
        &bob.id,
        Some(&alice.id),
        "member.role_changed",
        None,
        "2020-11-20 10:00:00",
        json!({"role": "admin"}),
    )
    .await;
    insert(
        &app,
        &bob.id,
        None,
        "profile.updated",
        None,
        "2020-11-21 10:00:00",
        json!({}),
    )
    .await;
    insert(
        &app,
        &alice.id,
        Some(&alice.id),
        "self.noted",
        None,
        "2020-11-22 10:00:00",
        json!({}),
    )
    .await;
    let body = page(&app, &session.access_token, "?limit=100").await;
    let listed = actions(&body);
    assert!(listed.contains(&"member.role_changed".to_string()));
    assert_eq!(
        listed.iter().filter(|a| *a == "self.noted").count(),
        1,
        "once, not per side"
    );
    assert!(!listed.contains(&"profile.updated".to_string()));
    assert_eq!(listed.len(), 4, "{listed:?}");
    let subject = body["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["action"] == "member.role_changed")
        .unwrap();
    assert_eq!(subject["actor_user_id"], bob.id.as_str());
    assert_eq!(subject["subject_user_id"], alice.id.as_str());
}

#[tokio::test]
async fn r13_filters_by_day_action_product_and_text() {
    let app = TestApp::spawn().await;
    let (user, session) = app.signed_in("zoe@example.ch").await;
    let id = user.id.as_str();
    let product = "prd_0193a1b2c3d4e5f60718293a4b5c6d7e";
    insert(
        &app,
        id,
        None,
        "order.created",
        Some(product),
        "2020-10-31 23:59:59",
        json!({"domain": "leman.ch"}),
    )
    .await;
    insert(
        &app,
        id,
        None,
        "login.failed",
        None,
        "2020-11-01 00:00:00",
        json!({"reason": "password"}),
    )
    .await;
    insert(
        &app,
        id,
        None,
        "login.failed",
        None,
        "2020-11-15 12:00:00",
        json!({"reason": "Locked"}),
    )
    .await;
    insert(
        &app,
        id,
        None,
        "token.created",
        None,
        "2020-11-30 23:59:59",
        json!({"kind": "50%_off"}),
    )
    .await;
    insert(
        &app,
        id,
        None,
        "order.created",
        Some(product),
        "2020-12-01 00:00:00",
        json!({"domain": "lac.ch"}),
    )
    .await;
    let token = &session.access_token;

    // Inclusive UTC days.
    let november = actions(&page(&app, token, "?from=2020-11-01&to=2020-11-30").await);
    assert_eq!(november, ["token.created", "login.failed", "login.failed"]);
    let one_day = actions(&page(&app, token, "?from=2020-10-31&to=2020-10-31").await);
    assert_eq!(one_day, ["order.created"]);
    let until = actions(&page(&app, token, "?to=2020-11-01").await);
    assert_eq!(until, ["login.failed", "order.created"]);

    // An empty range finds nothing.
    assert!(actions(&page(&app, token, "?from=2020-11-30&to=2020-11-01").await).is_empty());

    // Repeated action keys; product.
    let two = actions(
        &page(
            &app,
            token,
            "?action=token.created&action=order.created&to=2020-12-31",
        )
        .await,
    );
    assert_eq!(two, ["order.created", "token.created", "order.created"]);
    let by_product = page(&app, token, &format!("?product_id={product}")).await;
    assert_eq!(actions(&by_product), ["order.created", "order.created"]);
    assert_eq!(by_product["data"][0]["product_id"], product);

    // Text in the action or the details, case-insensitive; wildcards are literal.
    assert_eq!(
        actions(&page(&app, token, "?q=LEMAN.ch").await),
        ["order.created"]
    );
    assert_eq!(
        actions(&page(&app, token, "?q=locked").await),
        ["login.failed"]
    );
    assert_eq!(
        actions(&page(&app, token, "?q=FAILED&from=2020-11-02").await),
        ["login.failed"]
    );
    assert_eq!(
        actions(&page(&app, token, "?q=50%25_").await),
        ["token.created"]
    );
    assert!(actions(&page(&app, token, "?q=%25%25x").await).is_empty());

    // Filters and pages together.
    let first = page(
        &app,
        token,
        "?action=login.failed&action=order.created&limit=2",
    )
    .await;
    assert_eq!(actions(&first), ["order.created", "login.failed"]);
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = page(
        &app,
        token,
        &format!("?action=login.failed&action=order.created&limit=2&cursor={cursor}"),
    )
    .await;
    assert_eq!(actions(&second), ["login.failed", "order.created"]);
    assert!(second["next_cursor"].is_null());
}

#[tokio::test]
async fn r13_bad_pages_and_filters_are_422() {
    let app = TestApp::spawn().await;
    let (_, session) = app.signed_in("zoe@example.ch").await;
    for (query, field) in [
        ("?limit=0", "limit"),
        ("?limit=101", "limit"),
        ("?limit=", "limit"),
        ("?limit=ten", "limit"),
        ("?cursor=not-a-cursor", "cursor"),
        ("?cursor=bm9waXBl", "cursor"),
        ("?from=2020-13-01", "from"),
        ("?to=yesterday", "to"),
    ] {
        let res = send(
            &app,
            Method::GET,
            &format!("/v1/me/activities{query}"),
            &session,
            None,
        )
        .await;
        let body = problem(res, 422, "validation_failed").await;
        assert_eq!(body["errors"][0]["field"], field, "{query}");
    }
    let long = "x".repeat(101);
    let res = send(
        &app,
        Method::GET,
        &format!("/v1/me/activities?q={long}"),
        &session,
        None,
    )
    .await;
    problem(res, 422, "validation_failed").await;
}

#[tokio::test]
async fn r13_tokens_need_account_read() {
    let app = TestApp::spawn().await;
    let (_, session) = app.signed_in("zoe@example.ch").await;
    let (_, read) = create_token(&app, &session, &["account:read"]).await;
    let (_, orgs) = create_token(&app, &session, &["orgs:read"]).await;
    assert_eq!(
        actions(&page(&app, &read, "?limit=1").await),
        ["token.created"]
    );
    let res = send(&app, Method::GET, "/v1/me/activities", &orgs, None).await;
    problem(res, 403, "insufficient_scope").await;
    let res = app.get("/v1/me/activities").await;
    problem(res, 401, "unauthenticated").await;
}
