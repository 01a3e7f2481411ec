//! The connection log: listing the signed-in devices and ending them (R10).

use reqwest::Method;
use serde_json::json;

use crate::helpers::{
    PASSWORD, TestApp, TestSession, TestUser, my_activity_details, problem, send,
};

const FIREFOX_LINUX: &str =
    "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
const SAFARI_IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";

/// Signs in with a given User-Agent header.
async fn login_as(app: &TestApp, user: &TestUser, user_agent: &str) -> TestSession {
    let res = app
        .client
        .post(app.url("/v1/auth/login"))
        .header("User-Agent", user_agent)
        .json(&json!({"email": user.email, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    TestSession {
        access_token: body["access_token"].as_str().unwrap().to_string(),
        refresh_token: body["refresh_token"].as_str().unwrap().to_string(),
        session_id: body["session_id"].as_str().unwrap().to_string(),
    }
}

async fn list(app: &TestApp, token: &str) -> Vec<serde_json::Value> {
    let res = send(app, Method::GET, "/v1/me/sessions", token, None).await;
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body.as_object().unwrap().len(), 1, "only `data`: {body}");
    body["data"].as_array().unwrap().clone()
}

async fn status_of(app: &TestApp, method: Method, path: &str, token: &str) -> u16 {
    send(app, method, path, token, None).await.status().as_u16()
}

#[tokio::test]
async fn r10_the_connection_log_lists_each_device_and_marks_the_current_one() {
    let app = TestApp::spawn().await;
    let user = app.create_user("zoe@example.ch").await;
    let laptop = login_as(&app, &user, FIREFOX_LINUX).await;
    let phone = login_as(&app, &user, SAFARI_IPHONE).await;

    let seen = list(&app, &laptop.access_token).await;
    assert_eq!(seen.len(), 2, "{seen:?}");
    // Newest first: the phone signed in last.
    assert_eq!(seen[0]["id"], phone.session_id.as_str());
    assert_eq!(seen[1]["id"], laptop.session_id.as_str());
    assert_eq!(
        (&seen[0]["current"], &seen[1]["current"]),
        (&json!(false), &json!(true))
    );
    assert_eq!(seen[1]["device"], "Firefox on Linux");
    assert_eq!(seen[1]["browser"], "Firefox");
    assert_eq!(seen[1]["os"], "Linux");
    assert_eq!(seen[0]["browser"], "Safari");
    assert_eq!(seen[0]["os"], "iPhone");
    for s in &seen {
        assert_eq!(s["ip"], "127.0.0.1");
        for field in ["created_at", "last_seen_at"] {
            let at = s[field].as_str().unwrap();
            chrono::DateTime::parse_from_rfc3339(at).unwrap_or_else(|_| panic!("{field}: {at}"));
        }
    }
    // Seen from the phone, the phone is the current one.
    let from_phone = list(&app, &phone.access_token).await;
    assert_eq!(from_phone[0]["current"], true);
    assert_eq!(from_phone[1]["current"], false);

    // Without a User-Agent the device is unknown, never an error.
    let bare = app.login(&user).await;
    let seen = list(&app, &bare.access_token).await;
    assert_eq!(seen[0]["device"], "Unknown device");
    assert_eq!(seen[0]["browser"], json!(null));
    assert_eq!(seen[0]["os"], json!(null));

    // Another user sees only their own sessions.
    let (_, other) = app.signed_in("other@example.ch").await;
    let theirs = list(&app, &other.access_token).await;
    assert_eq!(theirs.len(), 1);
    assert_eq!(theirs[0]["id"], other.session_id.as_str());
}

#[tokio::test]
async fn r10_ending_another_session_cuts_it_off_at_once() {
    let app = TestApp::spawn().await;
    let user = app.create_user("zoe@example.ch").await;
    let laptop = login_as(&app, &user, FIREFOX_LINUX).await;
    let phone = login_as(&app, &user, SAFARI_IPHONE).await;
    // Reads the log once every session has ended.
    let reader = app.personal_token(&user.id).await;
    assert_eq!(
        status_of(&app, Method::GET, "/v1/me", &phone.access_token).await,
        200
    );

    let path = format!("/v1/me/sessions/{}", phone.session_id);
    assert_eq!(
        status_of(&app, Method::DELETE, &path, &laptop.access_token).await,
        204
    );
    // The phone's access token fails on its very next request, and it cannot refresh.
    problem(
        send(&app, Method::GET, "/v1/me", &phone, None).await,
        401,
        "unauthenticated",
    )
    .await;
    problem(
        app.post_json(
            "/v1/auth/refresh",
            json!({"refresh_token": phone.refresh_token}),
        )
        .await,
        401,
        "unauthenticated",
    )
    .await;
    let left = list(&app, &laptop.access_token).await;
    assert_eq!(left.len(), 1);
    assert_eq!(left[0]["id"], laptop.session_id.as_str());
    // Ended already: a second DELETE finds nothing.
    problem(
        send(&app, Method::DELETE, &path, &laptop, None).await,
        404,
        "not_found",
    )
    .await;
    let ended = my_activity_details(&app, &reader, "session.ended").await;
    assert_eq!(ended.len(), 1, "{ended:?}");
    assert_eq!(ended[0]["session_id"], phone.session_id.as_str());

    // The current session may end itself too.
    let own = format!("/v1/me/sessions/{}", laptop.session_id);
    assert_eq!(
        status_of(&app, Method::DELETE, &own, &laptop.access_token).await,
        204
    );
    assert_eq!(
        status_of(&app, Method::GET, "/v1/me", &laptop.access_token).await,
        401
    );
    assert_eq!(
        my_activity_details(&app, &reader, "session.ended")
            .await
            .len(),
        2
    );
}

#[tokio::test]
async fn r10_ending_the_other_sessions_keeps_the_current_one() {
    let app = TestApp::spawn().await;
    let user = app.create_user("zoe@example.ch").await;
    let a = login_as(&app, &user, FIREFOX_LINUX).await;
    let b = login_as(&app, &user, SAFARI_IPHONE).await;
    let c = app.login(&user).await;
    let (_, stranger) = app.signed_in("stranger@example.ch").await;

    assert_eq!(
        status_of(&app, Method::DELETE, "/v1/me/sessions", &a.access_token).await,
        204
    );
    assert_eq!(
        status_of(&app, Method::GET, "/v1/me", &a.access_token).await,
        200
    );
    for ended in [&b, &c] {
        assert_eq!(
            status_of(&app, Method::GET, "/v1/me", &ended.access_token).await,
            401
        );
    }
    assert_eq!(
        status_of(&app, Method::GET, "/v1/me", &stranger.access_token).await,
        200,
        "another user's sessions are untouched"
    );
    let left = list(&app, &a.access_token).await;
    assert_eq!(left.len(), 1);
    assert_eq!(left[0]["current"], true);
    // One record for the whole request, with the count.
    let records = my_activity_details(&app, &a, "sessions.ended_others").await;
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["count"], 2);
    assert_eq!(records[0]["kept_session_id"], a.session_id.as_str());
    assert!(
        my_activity_details(&app, &a, "session.ended")
            .await
            .is_empty()
    );

    // Nothing left to end: still one record (the request was made), with a zero count.
    assert_eq!(
        status_of(&app, Method::DELETE, "/v1/me/sessions", &a.access_token).await,
        204
    );
    let records = my_activity_details(&app, &a, "sessions.ended_others").await;
    assert_eq!(records.len(), 2);
    assert_eq!(records[1]["count"], 0);
}

#[tokio::test]
async fn r10_another_users_session_or_a_malformed_id_is_not_found() {
    let app = TestApp::spawn().await;
    let (me, mine) = app.signed_in("zoe@example.ch").await;
    let (them, theirs) = app.signed_in("other@example.ch").await;
    let before_me = app.activities_of(&me.id).await;
    let before_them = app.activities_of(&them.id).await;

    let other = format!("/v1/me/sessions/{}", theirs.session_id);
    let unknown = format!("/v1/me/sessions/{}", leman::db::new_id("ses"));
    let body = problem(
        send(&app, Method::DELETE, &other, &mine, None).await,
        404,
        "not_found",
    )
    .await;
    let unknown_body = problem(
        send(&app, Method::DELETE, &unknown, &mine, None).await,
        404,
        "not_found",
    )
    .await;
    assert_eq!(body["detail"], unknown_body["detail"], "no hint it exists");
    let malformed = [
        "ses_123".to_string(),
        "nonsense".to_string(),
        theirs.session_id.replace("ses_", "usr_"),
        format!("ses_{}", "z".repeat(32)),
        format!("{}%00", theirs.session_id),
        "ses_%27%20OR%201%3D1".to_string(),
    ];
    for id in malformed {
        problem(
            send(
                &app,
                Method::DELETE,
                &format!("/v1/me/sessions/{id}"),
                &mine,
                None,
            )
            .await,
            404,
            "not_found",
        )
        .await;
    }
    // Nothing ended, nothing recorded.
    assert_eq!(
        status_of(&app, Method::GET, "/v1/me", &theirs.access_token).await,
        200
    );
    assert_eq!(
        status_of(&app, Method::GET, "/v1/me", &mine.access_token).await,
        200
    );
    assert_eq!(app.activities_of(&me.id).await, before_me);
    assert_eq!(app.activities_of(&them.id).await, before_them);
    // Without credentials: 401, not a hint either way.
    problem(
        app.client.delete(app.url(&other)).send().await.unwrap(),
        401,
        "unauthenticated",
    )
    .await;
}

#[tokio::test]
async fn r10_a_personal_token_reads_the_log_and_ends_every_session() {
    let app = TestApp::spawn().await;
    let user = app.create_user("zoe@example.ch").await;
    let a = login_as(&app, &user, FIREFOX_LINUX).await;
    let b = login_as(&app, &user, SAFARI_IPHONE).await;
    let token = app.personal_token(&user.id).await;

    let seen = list(&app, &token).await;
    assert_eq!(seen.len(), 2);
    assert!(seen.iter().all(|s| s["current"] == false), "{seen:?}");

    assert_eq!(
        status_of(&app, Method::DELETE, "/v1/me/sessions", &token).await,
        204
    );
    for ended in [&a, &b] {
        assert_eq!(
            status_of(&app, Method::GET, "/v1/me", &ended.access_token).await,
            401
        );
    }
    assert!(list(&app, &token).await.is_empty());
    let records = my_activity_details(&app, &token, "sessions.ended_others").await;
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["count"], 2);
    assert_eq!(records[0]["kept_session_id"], json!(null));
}

async fn session_ip(app: &TestApp, forwarded_for: &str) -> String {
    let user = app
        .create_user(&format!(
            "proxy{}@example.ch",
            uuid::Uuid::now_v7().simple()
        ))
        .await;
    let res = app
        .client
        .post(app.url("/v1/auth/login"))
        .header("X-Forwarded-For", forwarded_for)
        .json(&serde_json::json!({"email": user.email, "password": user.password}))
        .send()
        .await
        .unwrap();
    let token = res.json::<serde_json::Value>().await.unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let list: serde_json::Value = send(app, Method::GET, "/v1/me/sessions", &token, None)
        .await
        .json()
        .await
        .unwrap();
    list["data"][0]["ip"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn the_client_ip_comes_from_the_proxy_only_when_it_is_trusted() {
    let app = TestApp::spawn().await;
    assert_eq!(
        session_ip(&app, "203.0.113.7").await,
        "127.0.0.1",
        "a forged header is ignored"
    );
    let app = TestApp::builder()
        .env("LEMAN_TRUST_PROXY", "true")
        .spawn()
        .await;
    assert_eq!(
        session_ip(&app, "203.0.113.7, 10.0.0.1").await,
        "203.0.113.7"
    );
    assert_eq!(session_ip(&app, "not an address").await, "127.0.0.1");
}

/// ASVS 7.4.5: an operator ends one account's sessions, or everyone's, from the command line;
/// the access tokens are refused from the next request and the refresh tokens no longer work.
#[tokio::test]
async fn an_operator_ends_one_accounts_sessions_or_everyones() {
    let app = TestApp::spawn().await;
    let zoe = app.create_user("op-zoe@example.ch").await;
    let max = app.create_user("op-max@example.ch").await;
    let zoe_laptop = login_as(&app, &zoe, FIREFOX_LINUX).await;
    let zoe_phone = login_as(&app, &zoe, SAFARI_IPHONE).await;
    let max_laptop = login_as(&app, &max, FIREFOX_LINUX).await;

    let out = app.cli(
        &["users", "end-sessions", "--email", " OP-Zoe@example.ch "],
        &[],
    );
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "2 session(s) ended"
    );
    for s in [&zoe_laptop, &zoe_phone] {
        assert_eq!(
            status_of(&app, Method::GET, "/v1/me", &s.access_token).await,
            401
        );
        let refreshed = app
            .client
            .post(app.url("/v1/auth/refresh"))
            .json(&json!({"refresh_token": s.refresh_token}))
            .send()
            .await
            .unwrap();
        assert_eq!(refreshed.status(), 401);
    }
    assert_eq!(
        status_of(&app, Method::GET, "/v1/me", &max_laptop.access_token).await,
        200
    );
    let zoe_again = login_as(&app, &zoe, FIREFOX_LINUX).await;
    let ended = my_activity_details(&app, &zoe_again, "session.ended").await;
    let by_operator: Vec<_> = ended.iter().filter(|d| d["reason"] == "operator").collect();
    assert_eq!(by_operator.len(), 2, "{ended:?}");

    let out = app.cli(&["users", "end-sessions", "--all"], &[]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "2 session(s) ended"
    );
    for s in [&zoe_again, &max_laptop] {
        assert_eq!(
            status_of(&app, Method::GET, "/v1/me", &s.access_token).await,
            401
        );
    }

    // Nobody to name, or both ways at once: refused, nothing ended.
    let out = app.cli(
        &["users", "end-sessions", "--email", "nobody@example.ch"],
        &[],
    );
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("No account"),
        "{out:?}"
    );
    let out = app.cli(&["users", "end-sessions"], &[]);
    assert!(!out.status.success());
    let out = app.cli(
        &[
            "users",
            "end-sessions",
            "--all",
            "--email",
            "op-max@example.ch",
        ],
        &[],
    );
    assert!(!out.status.success());
}
