//! Login, tokens, sessions, refresh, logout, lockout and alerts (R11, R12).

use reqwest::Method;
use serde_json::json;

use crate::helpers::{PASSWORD, TestApp, link_token, mail_text, problem, send};

#[tokio::test]
async fn r3_the_login_id_is_the_email_shown_on_the_profile() {
    let app = TestApp::spawn().await;
    let (user, session) = app.signed_in("zoe@example.ch").await;
    let res = send(&app, Method::GET, "/v1/me", &session, None).await;
    assert_eq!(res.status(), 200);
    let me: serde_json::Value = res.json().await.unwrap();
    assert_eq!(me["id"], user.id.as_str());
    assert_eq!(me["email"], "zoe@example.ch");
    assert_eq!(me["two_factor_enabled"], false);
    assert!(me.get("password_hash").is_none());
    assert_eq!(
        app.activities_of(&user.id).await,
        ["user.signed_up", "login.succeeded"]
    );
}

#[tokio::test]
async fn unknown_email_and_wrong_password_look_the_same() {
    let app = TestApp::spawn().await;
    app.create_user("known@example.ch").await;
    let a = app
        .post_json(
            "/v1/auth/login",
            json!({"email": "known@example.ch", "password": "not the password at all"}),
        )
        .await;
    let b = app
        .post_json(
            "/v1/auth/login",
            json!({"email": "unknown@example.ch", "password": "not the password at all"}),
        )
        .await;
    let mut a = problem(a, 401, "invalid_credentials").await;
    let mut b = problem(b, 401, "invalid_credentials").await;
    a["request_id"] = json!(null);
    b["request_id"] = json!(null);
    assert_eq!(a, b);
}

fn forge(header: serde_json::Value, claims: serde_json::Value, secret: &[u8]) -> String {
    let alg = match header["alg"].as_str().unwrap() {
        "HS512" => jsonwebtoken::Algorithm::HS512,
        _ => jsonwebtoken::Algorithm::HS256,
    };
    let mut h = jsonwebtoken::Header::new(alg);
    h.kid = header["kid"].as_str().map(str::to_string);
    jsonwebtoken::encode(&h, &claims, &jsonwebtoken::EncodingKey::from_secret(secret)).unwrap()
}

#[tokio::test]
async fn forged_or_stale_access_tokens_are_refused() {
    let app = TestApp::spawn().await;
    let (user, session) = app.signed_in("zoe@example.ch").await;
    let (kid, secret) = app.services.keys.signing();
    let now = chrono::Utc::now().timestamp();
    let claims = json!({"iss": "leman", "aud": "leman-api", "sub": user.id, "sid": session.session_id, "iat": now, "exp": now + 600, "typ": "access", "amr": ["pwd"]});
    // The forger is right when everything is right: the control case.
    let good = forge(
        json!({"alg": "HS256", "typ": "JWT", "kid": kid}),
        claims.clone(),
        secret,
    );
    assert_eq!(
        send(&app, Method::GET, "/v1/me", &good, None)
            .await
            .status(),
        200
    );

    let mut wrong_aud = claims.clone();
    wrong_aud["aud"] = json!("another-api");
    let mut expired = claims.clone();
    expired["exp"] = json!(now - 120);
    let mut other_user = claims.clone();
    other_user["sub"] = json!("usr_someone_else");
    let parts: Vec<&str> = good.split('.').collect();
    let tampered = {
        use base64::Engine as _;
        let mut c = claims.clone();
        c["sub"] = json!("usr_admin");
        format!(
            "{}.{}.{}",
            parts[0],
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(c.to_string()),
            parts[2]
        )
    };
    let none = format!(
        "{}.{}.",
        {
            use base64::Engine as _;
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode(json!({"alg": "none", "kid": kid}).to_string())
        },
        parts[1]
    );
    let cases = [
        ("alg none", none),
        (
            "HS512",
            forge(json!({"alg": "HS512", "kid": kid}), claims.clone(), secret),
        ),
        (
            "wrong aud",
            forge(json!({"alg": "HS256", "kid": kid}), wrong_aud, secret),
        ),
        (
            "expired",
            forge(json!({"alg": "HS256", "kid": kid}), expired, secret),
        ),
        ("tampered payload", tampered),
        (
            "other key",
            forge(
                json!({"alg": "HS256", "kid": kid}),
                claims.clone(),
                &[9u8; 32],
            ),
        ),
        (
            "session of another user",
            forge(json!({"alg": "HS256", "kid": kid}), other_user, secret),
        ),
        ("garbage", "not.a.jwt".to_string()),
    ];
    for (name, token) in cases {
        let res = send(&app, Method::GET, "/v1/me", &token, None).await;
        assert_eq!(res.status(), 401, "{name}");
        assert_eq!(res.headers()["www-authenticate"], "Bearer", "{name}");
        problem(res, 401, "unauthenticated").await;
    }
    problem(app.get("/v1/me").await, 401, "unauthenticated").await;
}

#[tokio::test]
async fn a_token_of_an_ended_session_fails_on_the_next_request() {
    let app = TestApp::spawn().await;
    let (user, session) = app.signed_in("zoe@example.ch").await;
    let res = send(&app, Method::POST, "/v1/auth/logout", &session, None).await;
    assert_eq!(res.status(), 204);
    problem(
        send(&app, Method::GET, "/v1/me", &session, None).await,
        401,
        "unauthenticated",
    )
    .await;
    problem(
        app.post_json(
            "/v1/auth/refresh",
            json!({"refresh_token": session.refresh_token}),
        )
        .await,
        401,
        "unauthenticated",
    )
    .await;
    assert_eq!(
        app.activities_of(&user.id).await.last().unwrap(),
        "session.ended"
    );
}

#[tokio::test]
async fn refresh_rotates_and_a_reused_token_revokes_the_session() {
    let app = TestApp::spawn().await;
    let (_, session) = app.signed_in("zoe@example.ch").await;
    let res = app
        .post_json(
            "/v1/auth/refresh",
            json!({"refresh_token": session.refresh_token}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let fresh: serde_json::Value = res.json().await.unwrap();
    assert_ne!(fresh["refresh_token"], session.refresh_token.as_str());
    assert_eq!(fresh["session_id"], session.session_id.as_str());
    let new_access = fresh["access_token"].as_str().unwrap();
    assert_eq!(
        send(&app, Method::GET, "/v1/me", new_access, None)
            .await
            .status(),
        200
    );

    // The old refresh token again: the whole session ends, new tokens included.
    problem(
        app.post_json(
            "/v1/auth/refresh",
            json!({"refresh_token": session.refresh_token}),
        )
        .await,
        401,
        "unauthenticated",
    )
    .await;
    problem(
        send(&app, Method::GET, "/v1/me", new_access, None).await,
        401,
        "unauthenticated",
    )
    .await;
    problem(
        app.post_json(
            "/v1/auth/refresh",
            json!({"refresh_token": fresh["refresh_token"]}),
        )
        .await,
        401,
        "unauthenticated",
    )
    .await;
}

#[tokio::test]
async fn an_idle_session_cannot_be_refreshed() {
    let app = TestApp::spawn().await;
    let (_, session) = app.signed_in("zoe@example.ch").await;
    let sid = session.session_id.clone();
    app.with_conn(move |c| {
        use diesel::prelude::*;
        use leman::db::schema::sessions;
        diesel::update(sessions::table.find(sid))
            .set(sessions::last_seen_at.eq(leman::db::now() - chrono::Duration::minutes(31)))
            .execute(c)
            .unwrap();
    })
    .await;
    problem(
        app.post_json(
            "/v1/auth/refresh",
            json!({"refresh_token": session.refresh_token}),
        )
        .await,
        401,
        "unauthenticated",
    )
    .await;
    problem(
        send(&app, Method::GET, "/v1/me", &session, None).await,
        401,
        "unauthenticated",
    )
    .await;
}

#[tokio::test]
async fn sign_in_routes_are_rate_limited_per_ip() {
    let app = TestApp::builder()
        .env("LEMAN_AUTH_RATE_PER_IP", "3")
        .spawn()
        .await;
    for _ in 0..3 {
        let res = app
            .post_json(
                "/v1/auth/login",
                json!({"email": "x@example.ch", "password": "whatever it is"}),
            )
            .await;
        assert_eq!(res.status(), 401);
    }
    let res = app
        .post_json(
            "/v1/auth/login",
            json!({"email": "x@example.ch", "password": "whatever it is"}),
        )
        .await;
    let retry: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    problem(res, 429, "rate_limited").await;
    problem(
        app.post_json(
            "/v1/users/verify-email/resend",
            json!({"email": "x@example.ch"}),
        )
        .await,
        429,
        "rate_limited",
    )
    .await;
}

#[tokio::test]
async fn login_attempts_are_rate_limited_per_account() {
    let app = TestApp::builder()
        .env("LEMAN_AUTH_RATE_PER_ACCOUNT", "2")
        .spawn()
        .await;
    // The attempts within the limit are answered (a wrong login, not a refusal)…
    for _ in 0..2 {
        let res = app
            .post_json(
                "/v1/auth/login",
                json!({"email": "target@example.ch", "password": "guess guess guess"}),
            )
            .await;
        problem(res, 401, "invalid_credentials").await;
    }
    // …the next, however the address is written, is refused and says when to come back.
    let res = app
        .post_json(
            "/v1/auth/login",
            json!({"email": "Target@example.ch", "password": "guess guess guess"}),
        )
        .await;
    let retry: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry >= 1, "{retry}");
    problem(res, 429, "rate_limited").await;
}

#[tokio::test]
async fn r12_the_account_locks_at_exactly_its_threshold() {
    let app = TestApp::spawn().await;
    let user = app.create_user_in("zoe@example.ch", "it").await;
    app.set_lock_threshold(&user.id, 3).await;
    let wrong = json!({"email": "zoe@example.ch", "password": "definitely not it"});
    for _ in 0..2 {
        problem(
            app.post_json("/v1/auth/login", wrong.clone()).await,
            401,
            "invalid_credentials",
        )
        .await;
    }
    // Not locked yet after 2 of 3: the right password works and resets the count.
    app.login(&user).await;
    for _ in 0..3 {
        problem(
            app.post_json("/v1/auth/login", wrong.clone()).await,
            401,
            "invalid_credentials",
        )
        .await;
    }
    // Locked at the third: even the right password gets the same answer.
    let res = app
        .post_json(
            "/v1/auth/login",
            json!({"email": "zoe@example.ch", "password": PASSWORD}),
        )
        .await;
    problem(res, 401, "invalid_credentials").await;
    let actions = app.activities_of(&user.id).await;
    assert_eq!(
        actions.iter().filter(|a| *a == "account.locked").count(),
        1,
        "{actions:?}"
    );
    // The owner is told, in their language, with an unlock link.
    let mails = app.wait_for_mails("zoe@example.ch", 5).await;
    let lock = mails
        .iter()
        .map(|m| mail_text(m))
        .find(|t| t.contains("/unlock?token="))
        .expect("a lock mail");
    assert!(lock.contains("bloccato") && lock.contains("3"), "{lock}");
    assert!(!link_token(&lock, "/unlock").is_empty());
}

#[tokio::test]
async fn r11_login_alerts_follow_the_users_choice() {
    let app = TestApp::spawn().await;
    let user = app.create_user("zoe@example.ch").await;
    // Default: failures are mailed, successes are not.
    app.post_json(
        "/v1/auth/login",
        json!({"email": "zoe@example.ch", "password": "not my password"}),
    )
    .await;
    let text = mail_text(&app.wait_for_mail("zoe@example.ch").await);
    assert!(text.contains("failed to sign in"), "{text}");
    assert!(text.contains("IP address: 127.0.0.1"), "{text}");
    assert!(
        text.contains("CET") || text.contains("CEST"),
        "time in the user's zone: {text}"
    );
    app.login(&user).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(app.mails().len(), 1, "no mail for a success by default");
}

#[tokio::test]
async fn r7_language_and_time_zone_are_per_account_and_used_in_mails() {
    let app = TestApp::spawn().await;
    let (user, session) = app.signed_in("zoe@example.ch").await;
    let res = send(
        &app,
        Method::PATCH,
        "/v1/me",
        &session,
        Some(json!({"language": "es", "timezone": "America/Bogota", "first_name": "  Zoé  "})),
    )
    .await;
    assert_eq!(res.status(), 200);
    let me: serde_json::Value = res.json().await.unwrap();
    assert_eq!(
        (
            me["language"].as_str(),
            me["timezone"].as_str(),
            me["first_name"].as_str()
        ),
        (Some("es"), Some("America/Bogota"), Some("Zoé"))
    );
    let res = send(
        &app,
        Method::PATCH,
        "/v1/me",
        &session,
        Some(json!({"language": "xx", "timezone": "Nowhere"})),
    )
    .await;
    let body = problem(res, 422, "validation_failed").await;
    assert_eq!(body["errors"].as_array().unwrap().len(), 2);
    let res = send(
        &app,
        Method::PATCH,
        "/v1/me",
        &session,
        Some(json!({"email": "x@y.ch"})),
    )
    .await;
    problem(res, 422, "validation_failed").await;
    // A failure alert now comes in Spanish, with the time in Bogotá.
    app.post_json(
        "/v1/auth/login",
        json!({"email": user.email, "password": "wrong wrong wrong"}),
    )
    .await;
    let text = mail_text(&app.wait_for_mail("zoe@example.ch").await);
    assert!(text.contains("Hola Zoé") && text.contains("-05"), "{text}");
    assert_eq!(
        app.activities_of(&user.id)
            .await
            .iter()
            .filter(|a| *a == "profile.updated")
            .count(),
        1
    );
}
