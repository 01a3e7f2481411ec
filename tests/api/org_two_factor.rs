//! The organisations' 2FA requirement (R16–R21): a member without 2FA is refused on every route
//! the spec holds (walked from the spec, so later routes join by themselves) except signing in
//! and out, reading who they are, setting 2FA up and leaving; application tokens get through;
//! once 2FA is on, everything opens.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{
    PASSWORD, TestApp, TestSession, example_body, operations, problem, send, spec,
};

/// The routes the issue keeps open to a blocked member — written here from the issue, not read
/// from the server's own list.
fn open_to_blocked(method: &str, path: &str) -> bool {
    path.starts_with("/v1/auth/")
        || path.starts_with("/v1/me/two-factor/")
        || (method == "get" && (path == "/v1/me" || path == "/v1/me/organizations"))
        || (method == "post" && path == "/v1/orgs/{org_id}/leave")
}

/// Turns the organisation's 2FA requirement on or off as `s`.
async fn set_policy(app: &TestApp, s: &TestSession, org: &str, on: bool) -> reqwest::Response {
    send(
        app,
        Method::PUT,
        &format!("/v1/orgs/{org}/security-policy"),
        &s,
        Some(json!({ "require_two_factor": on })),
    )
    .await
}

fn secured(op: &Value) -> bool {
    op["security"].as_array().is_some_and(|s| !s.is_empty())
}

/// Calls every secured route not open to blocked members with `token` and the spec's example
/// body; returns (route, status, code) of each answer.
async fn walk(app: &TestApp, token: &str, org: &str) -> Vec<(String, u16, String)> {
    let spec = spec();
    let mut answers = Vec::new();
    for (method, path, op) in operations(&spec) {
        if !secured(&op) || open_to_blocked(&method, &path) {
            continue;
        }
        let url = path
            .replace("{org_id}", org)
            .replace("{user_id}", "usr_00000000000000000000000000000000")
            .replace("{invitation_id}", "ivt_00000000000000000000000000000000")
            .replace("{session_id}", "ses_00000000000000000000000000000000")
            .replace("{token_id}", "tok_00000000000000000000000000000000");
        let res = send(
            app,
            Method::from_bytes(method.to_uppercase().as_bytes()).unwrap(),
            &url,
            token,
            example_body(&spec, &op),
        )
        .await;
        let status = res.status().as_u16();
        let body: Value = res.json().await.unwrap_or(Value::Null);
        answers.push((
            format!("{method} {path}"),
            status,
            body["code"].as_str().unwrap_or("").to_string(),
        ));
    }
    answers
}

#[tokio::test]
async fn r17_r19_r20_a_member_without_two_factor_is_stopped_everywhere_but_in_apps_until_it_is_on()
{
    let app = TestApp::builder()
        .env("LEMAN_AUTH_RATE_PER_IP", "1000")
        .spawn()
        .await;
    let (_, ls) = app.signed_in("legal@example.ch").await;
    let org = app.create_org(&ls, "Strict Sàrl").await;
    let (member, ms) = app.signed_in("member@example.ch").await;
    app.add_member(&org, &member.id, "member", &["accounting"])
        .await;
    let policy = format!("/v1/orgs/{org}/security-policy");

    // Only a caller with 2FA may require it.
    let res = set_policy(&app, &ls, &org, true).await;
    problem(res, 409, "two_factor_not_enabled").await;
    app.enable_two_factor(&ls).await;
    let res = set_policy(&app, &ls, &org, true).await;
    assert_eq!(res.status(), 200);
    let mail = app
        .wait_for_mail_containing(&member.email, "Strict Sàrl")
        .await;
    assert!(mail.contains("Zoë Müller"), "{mail}");
    let got: Value = send(&app, Method::GET, &policy, &ls, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(got, json!({"require_two_factor": true}));

    // Refused on every other route, before anything happens.
    let answers = walk(&app, &ms.access_token, &org).await;
    assert!(answers.len() > 30, "{} routes walked", answers.len());
    for (route, status, code) in &answers {
        assert_eq!(
            (*status, code.as_str()),
            (403, "two_factor_required"),
            "{route}"
        );
    }
    // A personal token (a script) is refused too.
    let script = app
        .token_of_kind(&member.id, "personal", &["account:read", "orgs:read"])
        .await;
    let res = send(&app, Method::GET, "/v1/me/sessions", &script, None).await;
    problem(res, 403, "two_factor_required").await;

    // Open: reading who one is and one's organisations, re-authenticating, refreshing.
    for path in ["/v1/me", "/v1/me/organizations"] {
        let res = send(&app, Method::GET, path, &ms, None).await;
        assert_eq!(res.status(), 200, "{path}");
    }
    let res = send(
        &app,
        Method::POST,
        "/v1/auth/reauthenticate",
        &ms,
        Some(json!({"password": PASSWORD})),
    )
    .await;
    assert_eq!(res.status(), 204);
    let res = app
        .post_json(
            "/v1/auth/refresh",
            json!({"refresh_token": ms.refresh_token}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let refreshed: Value = res.json().await.unwrap();
    let access = refreshed["access_token"].as_str().unwrap().to_string();

    // Desktop and mobile apps keep working (R20).
    let app_token = app
        .token_of_kind(
            &member.id,
            "application",
            &[
                "account:read",
                "orgs:read",
                "billing:read",
                "products:read",
                "domains:read",
            ],
        )
        .await;
    for (route, status, code) in walk(&app, &app_token, &org).await {
        assert_ne!(code, "two_factor_required", "{route}: {status}");
        assert!(status < 500, "{route}: {status}");
    }

    // 2FA can be set up, and then everything opens.
    let session = crate::helpers::TestSession {
        access_token: access,
        refresh_token: refreshed["refresh_token"].as_str().unwrap().to_string(),
        session_id: ms.session_id.clone(),
    };
    app.enable_two_factor(&session).await;
    // Not recent: sensitive routes refuse for their own reason, and nothing is deleted.
    app.make_session_not_recent(&session).await;
    for (route, status, code) in walk(&app, &session.access_token, &org).await {
        assert_ne!(code, "two_factor_required", "{route}: {status}");
        assert!(status < 500, "{route}: {status}");
    }
}

#[tokio::test]
async fn r21_a_member_may_leave_rather_than_turn_two_factor_on() {
    let app = TestApp::spawn().await;
    let (_, ls) = app.signed_in("legal@example.ch").await;
    app.enable_two_factor(&ls).await;
    let strict = app.create_org(&ls, "Strict").await;
    let (member, ms) = app.signed_in("external@example.ch").await;
    let own = app.create_org(&ms, "Own").await;
    app.add_member(&strict, &member.id, "member", &[]).await;
    let res = set_policy(&app, &ls, &strict, true).await;
    assert_eq!(res.status(), 200);
    // The block is global: even the member's own organisation is closed.
    let res = send(&app, Method::GET, &format!("/v1/orgs/{own}"), &ms, None).await;
    problem(res, 403, "two_factor_required").await;
    let res = send(
        &app,
        Method::POST,
        &format!("/v1/orgs/{strict}/leave"),
        &ms,
        None,
    )
    .await;
    assert_eq!(res.status(), 204);
    let res = send(&app, Method::GET, &format!("/v1/orgs/{own}"), &ms, None).await;
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn r16_two_factor_cannot_be_turned_off_while_an_organisation_requires_it() {
    let app = TestApp::spawn().await;
    let (_, ls) = app.signed_in("legal@example.ch").await;
    app.enable_two_factor(&ls).await;
    let org = app.create_org(&ls, "Strict").await;
    set_policy(&app, &ls, &org, true).await;
    let res = send(&app, Method::DELETE, "/v1/me/two-factor", &ls, None).await;
    problem(res, 409, "two_factor_required_by_organization").await;
    set_policy(&app, &ls, &org, false).await;
    let res = send(&app, Method::DELETE, "/v1/me/two-factor", &ls, None).await;
    assert_eq!(res.status(), 204);
}

#[tokio::test]
async fn r19_joining_an_organisation_that_requires_two_factor_stops_at_once() {
    let app = TestApp::spawn().await;
    let (_, ls) = app.signed_in("legal@example.ch").await;
    app.enable_two_factor(&ls).await;
    let org = app.create_org(&ls, "Strict").await;
    set_policy(&app, &ls, &org, true).await;
    let (newcomer, ns) = app.signed_in("newcomer@example.ch").await;
    send(
        &app,
        Method::POST,
        &format!("/v1/orgs/{org}/invitations"),
        &ls,
        Some(json!({"email": newcomer.email, "role": "member"})),
    )
    .await;
    let token = crate::helpers::link_token(
        &app.wait_for_mail_containing(&newcomer.email, "/accept-invitation?token=")
            .await,
        "/accept-invitation",
    );
    let sessions = || send(&app, Method::GET, "/v1/me/sessions", &ns, None);
    assert_eq!(sessions().await.status(), 200);
    let res = send(
        &app,
        Method::POST,
        "/v1/invitations/accept",
        &ns,
        Some(json!({ "token": token })),
    )
    .await;
    assert_eq!(res.status(), 200);
    problem(sessions().await, 403, "two_factor_required").await;
    // Removed again, the member is free.
    let res = send(
        &app,
        Method::DELETE,
        &format!("/v1/orgs/{org}/members/{}", newcomer.id),
        &ls,
        None,
    )
    .await;
    assert_eq!(res.status(), 204);
    assert_eq!(sessions().await.status(), 200);
}
