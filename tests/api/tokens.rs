//! Personal and application tokens: created only with a recent authentication, shown once,
//! stored hashed, narrowed by scopes, revocable at once.

use std::time::{Duration, Instant};

use diesel::prelude::*;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, create_token, problem, send};

async fn status(app: &TestApp, method: Method, path: &str, token: &str) -> u16 {
    send(app, method, path, token, None).await.status().as_u16()
}

async fn list(app: &TestApp, token: &str) -> Value {
    let res = send(app, Method::GET, "/v1/me/tokens", token, None).await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

#[tokio::test]
async fn a_token_is_shown_once_stored_hashed_and_works_as_a_bearer() {
    let app = TestApp::spawn().await;
    let (user, session) = app.signed_in("zoe@example.ch").await;
    let res = send(&app, Method::POST, "/v1/me/tokens", &session, Some(json!({"name": " Deploy script ", "kind": "application", "scopes": ["account:read", "domains:write", "account:read"], "expires_at": "2099-01-01T00:00:00Z"}))).await;
    assert_eq!(res.status(), 201);
    let created: Value = res.json().await.unwrap();
    let secret = created["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("lmn_") && secret.len() > 40, "{secret}");
    assert_eq!(created["prefix"], &secret[..8]);
    assert_eq!(created["name"], "Deploy script");
    assert_eq!(created["kind"], "application");
    assert_eq!(created["scopes"], json!(["account:read", "domains:write"]));
    assert_eq!(created["expires_at"], "2099-01-01T00:00:00Z");
    assert!(created["last_used_at"].is_null());
    let id = created["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("tok_"));

    // Listed without its secret, which the database does not hold either.
    let listed = list(&app, &session.access_token).await;
    assert_eq!(listed["data"].as_array().unwrap().len(), 1);
    assert_eq!(listed["data"][0]["id"], id.as_str());
    assert!(listed["data"][0].get("secret").is_none());
    assert!(!listed.to_string().contains(&secret));
    assert!(listed["next_cursor"].is_null());
    let stored = {
        use leman::db::schema::api_tokens as t;
        let id = id.clone();
        app.with_conn(move |c| {
            t::table
                .find(id)
                .select((t::token_hash, t::prefix, t::scopes))
                .first::<(String, String, String)>(c)
                .unwrap()
        })
        .await
    };
    assert_ne!(stored.0, secret);
    assert!(!stored.0.contains(&secret[8..]) && !stored.2.contains(&secret[8..]));

    // The secret opens the account.
    let res = send(&app, Method::GET, "/v1/me", &secret, None).await;
    assert_eq!(res.status(), 200);
    let me: Value = res.json().await.unwrap();
    assert_eq!(me["id"], user.id.as_str());

    // Its use is recorded (written off the request path, so it may take a moment).
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let listed = list(&app, &session.access_token).await;
        if listed["data"][0]["last_used_at"].is_string() {
            break;
        }
        assert!(Instant::now() < deadline, "last_used_at never set");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        app.activities_of(&user.id).await,
        ["user.signed_up", "login.succeeded", "token.created"]
    );
}

#[tokio::test]
async fn creating_a_token_needs_a_recent_authentication() {
    let app = TestApp::spawn().await;
    let (user, session) = app.signed_in("zoe@example.ch").await;
    app.make_session_not_recent(&session).await;
    let res = send(
        &app,
        Method::POST,
        "/v1/me/tokens",
        &session,
        Some(json!({"name": "CI", "kind": "personal", "scopes": ["account:read"]})),
    )
    .await;
    problem(res, 403, "reauthentication_required").await;
    assert!(
        list(&app, &session.access_token).await["data"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        app.activities_of(&user.id).await.last().unwrap(),
        "login.succeeded"
    );

    // Signing in again is a fresh authentication.
    let fresh = app.login(&user).await;
    create_token(&app, &fresh, &["account:read"]).await;
}

#[tokio::test]
async fn a_token_cannot_create_a_token() {
    let app = TestApp::spawn().await;
    let (_, session) = app.signed_in("zoe@example.ch").await;
    let (_, secret) = create_token(&app, &session, &["account:write"]).await;
    let res = send(
        &app,
        Method::POST,
        "/v1/me/tokens",
        &secret,
        Some(json!({"name": "Child", "kind": "personal", "scopes": ["account:read"]})),
    )
    .await;
    problem(res, 403, "reauthentication_required").await;
    assert_eq!(
        list(&app, &session.access_token).await["data"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn scopes_narrow_what_a_token_may_do() {
    let app = TestApp::spawn().await;
    let (_, session) = app.signed_in("zoe@example.ch").await;
    let (_, read) = create_token(&app, &session, &["account:read"]).await;
    let (write_id, write) = create_token(&app, &session, &["account:write"]).await;
    let (_, other_area) = create_token(&app, &session, &["orgs:write", "billing:read"]).await;
    let patch = json!({"language": "de"});

    // Read-only: reads, never writes.
    assert_eq!(status(&app, Method::GET, "/v1/me", &read).await, 200);
    assert_eq!(status(&app, Method::GET, "/v1/me/tokens", &read).await, 200);
    let res = send(&app, Method::PATCH, "/v1/me", &read, Some(patch.clone())).await;
    let body = problem(res, 403, "insufficient_scope").await;
    assert!(body["detail"].as_str().unwrap().contains("account:write"));
    let res = send(
        &app,
        Method::DELETE,
        &format!("/v1/me/tokens/{write_id}"),
        &read,
        None,
    )
    .await;
    problem(res, 403, "insufficient_scope").await;

    // Write implies read in the same area.
    let res = send(&app, Method::PATCH, "/v1/me", &write, Some(patch.clone())).await;
    assert_eq!(res.status(), 200);
    assert_eq!(status(&app, Method::GET, "/v1/me", &write).await, 200);

    // Another area's scopes open nothing here.
    let res = send(&app, Method::GET, "/v1/me", &other_area, None).await;
    problem(res, 403, "insufficient_scope").await;

    // A session holds every scope.
    assert_eq!(
        status(&app, Method::GET, "/v1/me", &session.access_token).await,
        200
    );
}

#[tokio::test]
async fn revocation_takes_effect_at_once() {
    let app = TestApp::spawn().await;
    let (user, session) = app.signed_in("zoe@example.ch").await;
    let (id, secret) = create_token(&app, &session, &["account:read"]).await;
    let (_, kept) = create_token(&app, &session, &["account:read"]).await;
    assert_eq!(status(&app, Method::GET, "/v1/me", &secret).await, 200);
    let path = format!("/v1/me/tokens/{id}");
    assert_eq!(
        status(&app, Method::DELETE, &path, &session.access_token).await,
        204
    );
    let res = send(&app, Method::GET, "/v1/me", &secret, None).await;
    problem(res, 401, "unauthenticated").await;
    assert_eq!(status(&app, Method::GET, "/v1/me", &kept).await, 200);
    let listed = list(&app, &session.access_token).await;
    assert_eq!(listed["data"].as_array().unwrap().len(), 1);
    assert_ne!(listed["data"][0]["id"], id.as_str());
    // Twice: nothing left to revoke.
    let res = send(&app, Method::DELETE, &path, &session, None).await;
    problem(res, 404, "not_found").await;
    assert_eq!(
        app.activities_of(&user.id).await.last().unwrap(),
        "token.revoked"
    );

    // A token with `account:write` may revoke itself.
    let (self_id, own) = create_token(&app, &session, &["account:write"]).await;
    let own_path = format!("/v1/me/tokens/{self_id}");
    assert_eq!(status(&app, Method::DELETE, &own_path, &own).await, 204);
    assert_eq!(status(&app, Method::GET, "/v1/me", &own).await, 401);
}

#[tokio::test]
async fn an_expired_token_is_refused() {
    let app = TestApp::spawn().await;
    let (_, session) = app.signed_in("zoe@example.ch").await;
    let (id, secret) = create_token(&app, &session, &["account:read"]).await;
    assert_eq!(status(&app, Method::GET, "/v1/me", &secret).await, 200);
    {
        use leman::db::schema::api_tokens as t;
        app.with_conn(move |c| {
            diesel::update(t::table.find(id))
                .set(t::expires_at.eq(Some(leman::db::now() - chrono::Duration::seconds(1))))
                .execute(c)
                .unwrap();
        })
        .await;
    }
    let res = send(&app, Method::GET, "/v1/me", &secret, None).await;
    problem(res, 401, "unauthenticated").await;
    // Still listed, so its owner sees it expired.
    let listed = list(&app, &session.access_token).await;
    assert_eq!(listed["data"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn another_users_token_is_not_found() {
    let app = TestApp::spawn().await;
    let (_, alice) = app.signed_in("alice@example.ch").await;
    let (_, bob) = app.signed_in("bob@example.ch").await;
    let (id, secret) = create_token(&app, &alice, &["account:read"]).await;
    let res = send(
        &app,
        Method::DELETE,
        &format!("/v1/me/tokens/{id}"),
        &bob,
        None,
    )
    .await;
    problem(res, 404, "not_found").await;
    assert!(
        list(&app, &bob.access_token).await["data"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    for bad in ["tok_123", "ses_0193a1b2c3d4e5f60718293a4b5c6d7e", "%00"] {
        let res = send(
            &app,
            Method::DELETE,
            &format!("/v1/me/tokens/{bad}"),
            &alice,
            None,
        )
        .await;
        problem(res, 404, "not_found").await;
    }
    assert_eq!(status(&app, Method::GET, "/v1/me", &secret).await, 200);
}

#[tokio::test]
async fn invalid_requests_create_nothing() {
    let app = TestApp::spawn().await;
    let (user, session) = app.signed_in("zoe@example.ch").await;
    let cases = [
        (
            json!({"name": "", "kind": "personal", "scopes": ["account:read"]}),
            "/name",
        ),
        (
            json!({"name": "x".repeat(101), "kind": "personal", "scopes": ["account:read"]}),
            "/name",
        ),
        (
            json!({"name": "CI", "kind": "personal", "scopes": []}),
            "/scopes",
        ),
        (
            json!({"name": "CI", "kind": "personal", "scopes": ["account:read", "root"]}),
            "/scopes/1",
        ),
        (
            json!({"name": "CI", "kind": "robot", "scopes": ["account:read"]}),
            "/kind",
        ),
        (
            json!({"name": "CI", "kind": "personal", "scopes": ["account:read"], "expires_at": "2020-01-01T00:00:00Z"}),
            "/expires_at",
        ),
        (
            json!({"name": "CI", "kind": "personal", "scopes": ["account:read"], "expires_at": "tomorrow"}),
            "/expires_at",
        ),
        (
            json!({"name": "CI", "kind": "personal", "scopes": ["account:read"], "admin": true}),
            "/admin",
        ),
    ];
    for (body, field) in cases {
        let res = send(
            &app,
            Method::POST,
            "/v1/me/tokens",
            &session,
            Some(body.clone()),
        )
        .await;
        let problem = problem(res, 422, "validation_failed").await;
        assert!(
            problem["errors"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["field"] == field),
            "{field}: {problem}"
        );
    }
    assert!(
        list(&app, &session.access_token).await["data"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        app.activities_of(&user.id).await.last().unwrap(),
        "login.succeeded"
    );
}

#[tokio::test]
async fn the_token_list_paginates_newest_first() {
    let app = TestApp::spawn().await;
    let (_, session) = app.signed_in("zoe@example.ch").await;
    let mut ids = Vec::new();
    for _ in 0..5 {
        ids.push(create_token(&app, &session, &["account:read"]).await.0);
    }
    ids.reverse();
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/me/tokens?limit=2&cursor={c}"),
            None => "/v1/me/tokens?limit=2".to_string(),
        };
        let res = send(&app, Method::GET, &path, &session, None).await;
        let page: Value = res.json().await.unwrap();
        for t in page["data"].as_array().unwrap() {
            seen.push(t["id"].as_str().unwrap().to_string());
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(seen, ids);
    let res = send(&app, Method::GET, "/v1/me/tokens?limit=0", &session, None).await;
    problem(res, 422, "validation_failed").await;
}
