//! Two-factor authentication (R16): enrolment with an authenticator app, codes with one step of
//! drift and no replay, recovery codes, the second login step, lockout on wrong codes,
//! re-authentication before sensitive actions, tokens kept out, mails and the activity record.

use diesel::prelude::*;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{
    NEW_PASSWORD, PASSWORD, TestApp, TestSession, count, mail_text, problem, send, totp_code,
};

/// Waits, when needed, until at least 5 s remain in the current 30-second step, so a test that
/// computes codes relative to "now" runs within one step.
async fn settle() {
    let into = chrono::Utc::now().timestamp_millis().rem_euclid(30_000);
    if into > 25_000 {
        tokio::time::sleep(std::time::Duration::from_millis(
            (30_000 - into + 100) as u64,
        ))
        .await;
    }
}

async fn start(app: &TestApp, session: &TestSession) -> reqwest::Response {
    send(app, Method::POST, "/v1/me/two-factor/totp", &session, None).await
}

async fn confirm(app: &TestApp, session: &TestSession, code: &str) -> reqwest::Response {
    send(
        app,
        Method::POST,
        "/v1/me/two-factor/totp/confirm",
        &session,
        Some(json!({ "code": code })),
    )
    .await
}

async fn started_secret(app: &TestApp, session: &TestSession) -> String {
    let res = start(app, session).await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    body["secret"].as_str().unwrap().to_string()
}

async fn me(app: &TestApp, session: &TestSession) -> Value {
    let res = send(app, Method::GET, "/v1/me", &session, None).await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

async fn mfa(app: &TestApp, body: Value) -> reqwest::Response {
    app.post_json("/v1/auth/login/mfa", body).await
}

async fn reauthenticate(app: &TestApp, session: &TestSession, body: Value) -> reqwest::Response {
    send(
        app,
        Method::POST,
        "/v1/auth/reauthenticate",
        &session,
        Some(body.clone()),
    )
    .await
}

async fn disable(app: &TestApp, token: &str) -> reqwest::Response {
    send(app, Method::DELETE, "/v1/me/two-factor", token, None).await
}

async fn regenerate(app: &TestApp, token: &str) -> reqwest::Response {
    send(
        app,
        Method::POST,
        "/v1/me/two-factor/recovery-codes",
        token,
        None,
    )
    .await
}

async fn failed_logins(app: &TestApp, user_id: &str) -> i32 {
    use leman::db::schema::users;
    let id = user_id.to_string();
    app.with_conn(move |c| {
        users::table
            .find(id)
            .select(users::failed_logins)
            .first(c)
            .unwrap()
    })
    .await
}

fn amr_of(access_token: &str) -> Value {
    use base64::Engine as _;
    let payload = access_token.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap();
    claims["amr"].clone()
}

#[tokio::test]
async fn r16_a_user_turns_two_factor_on_with_an_authenticator_app_enrolment_starts_pending() {
    let app = TestApp::spawn().await;
    let user = app.create_user_in("zoe@example.ch", "de").await;
    let session = app.login(&user).await;

    let res = start(&app, &session).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let body: Value = res.json().await.unwrap();
    let secret = body["secret"].as_str().unwrap().to_string();
    assert_eq!(secret.len(), 32, "160 bits in base32: {secret}");
    assert!(
        secret
            .bytes()
            .all(|b| b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b))
    );
    let uri = body["otpauth_uri"].as_str().unwrap();
    assert!(
        uri.starts_with("otpauth://totp/Leman:zoe%40example.ch?"),
        "{uri}"
    );
    assert!(
        uri.contains(&format!("secret={secret}")) && uri.contains("issuer=Leman"),
        "{uri}"
    );
    let qr = body["qr_code"]
        .as_str()
        .unwrap()
        .strip_prefix("data:image/png;base64,")
        .expect("a PNG data URI");
    let png = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD
            .decode(qr)
            .unwrap()
    };
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");

    // Pending is not on: the account and the login are unchanged.
    assert_eq!(me(&app, &session).await["two_factor_enabled"], false);
    app.login(&user).await;

    // A code of another moment is refused and changes nothing.
    problem(
        confirm(&app, &session, &totp_code(&secret, 5)).await,
        422,
        "invalid_code",
    )
    .await;
    problem(confirm(&app, &session, "abcdef").await, 422, "invalid_code").await;
    assert_eq!(me(&app, &session).await["two_factor_enabled"], false);
}

#[tokio::test]
async fn r16_a_user_turns_two_factor_on_with_an_authenticator_app_a_current_code_turns_it_on() {
    let app = TestApp::spawn().await;
    let user = app.create_user_in("zoe@example.ch", "de").await;
    let session = app.login(&user).await;
    let res = start(&app, &session).await;
    let body: Value = res.json().await.unwrap();
    let secret = body["secret"].as_str().unwrap().to_string();
    // A second login while pending, as in the scenario before: the record shows both.
    app.login(&user).await;

    let res = confirm(&app, &session, &totp_code(&secret, 0)).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let body: Value = res.json().await.unwrap();
    let codes: Vec<String> = body["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    assert_eq!(codes.len(), 10);
    for code in &codes {
        let groups: Vec<&str> = code.split('-').collect();
        assert_eq!(groups.len(), 6, "{code}"); // 120 bits: 24 base32 characters
        assert!(
            groups.iter().all(|g| g.len() == 4
                && g.bytes()
                    .all(|b| b.is_ascii_lowercase() || (b'2'..=b'7').contains(&b))),
            "{code}"
        );
    }
    let distinct: std::collections::HashSet<_> = codes.iter().collect();
    assert_eq!(distinct.len(), 10);
    assert_eq!(me(&app, &session).await["two_factor_enabled"], true);

    // Stored: the secret, and only hashes of the recovery codes.
    let id = user.id.clone();
    let (stored_secret, hashes) = app
        .with_conn(move |c| {
            use leman::db::schema::{recovery_codes, users};
            let secret: Option<String> = users::table
                .find(&id)
                .select(users::totp_secret)
                .first(c)
                .unwrap();
            let hashes: Vec<String> = recovery_codes::table
                .filter(recovery_codes::user_id.eq(&id))
                .select(recovery_codes::code_hash)
                .load(c)
                .unwrap();
            (secret, hashes)
        })
        .await;
    assert_eq!(stored_secret.as_deref(), Some(secret.as_str()));
    assert_eq!(hashes.len(), 10);
    for code in &codes {
        let plain = code.replace('-', "");
        assert!(!hashes.iter().any(|h| h.contains(&plain)));
        assert!(hashes.contains(&leman::auth::secrets::hash(&plain)));
    }

    // Once on, neither a new enrolment nor a second confirmation.
    problem(
        start(&app, &session).await,
        409,
        "two_factor_already_enabled",
    )
    .await;
    problem(
        confirm(&app, &session, &totp_code(&secret, 1)).await,
        409,
        "two_factor_already_enabled",
    )
    .await;

    // The owner is told, in German, with when, where and on what.
    let text = mail_text(&app.wait_for_mail("zoe@example.ch").await);
    assert!(
        text.contains("Zwei-Faktor-Authentifizierung aktiviert"),
        "{text}"
    );
    assert!(text.contains("IP-Adresse: 127.0.0.1"), "{text}");
    assert_eq!(
        app.activities_of(&user.id).await,
        [
            "user.signed_up",
            "login.succeeded",
            "two_factor.enrolment_started",
            "login.succeeded",
            "two_factor.enabled"
        ]
    );
}

#[tokio::test]
async fn confirming_needs_a_pending_enrolment_and_a_well_formed_body() {
    let app = TestApp::spawn().await;
    let (user, session) = app.signed_in("zoe@example.ch").await;
    problem(
        confirm(&app, &session, "123456").await,
        409,
        "two_factor_enrolment_not_started",
    )
    .await;
    for body in [
        json!({}),
        json!({"code": 123456}),
        json!({"code": "1", "x": 1}),
    ] {
        let res = send(
            &app,
            Method::POST,
            "/v1/me/two-factor/totp/confirm",
            &session,
            Some(body.clone()),
        )
        .await;
        problem(res, 422, "validation_failed").await;
    }
    // Nothing to turn off or regenerate while 2FA is off (the session is recent).
    problem(
        disable(&app, &session.access_token).await,
        409,
        "two_factor_not_enabled",
    )
    .await;
    problem(
        regenerate(&app, &session.access_token).await,
        409,
        "two_factor_not_enabled",
    )
    .await;
    // A second start replaces the pending secret: only the newest one confirms.
    let first = started_secret(&app, &session).await;
    let second = started_secret(&app, &session).await;
    assert_ne!(first, second);
    problem(
        confirm(&app, &session, &totp_code(&first, 0)).await,
        422,
        "invalid_code",
    )
    .await;
    assert_eq!(
        confirm(&app, &session, &totp_code(&second, 0))
            .await
            .status(),
        200
    );
    assert_eq!(
        app.activities_of(&user.id).await,
        [
            "user.signed_up",
            "login.succeeded",
            "two_factor.enrolment_started",
            "two_factor.enrolment_started",
            "two_factor.enabled"
        ]
    );
}

#[tokio::test]
async fn r16_codes_are_accepted_one_step_early_or_late_but_no_more() {
    let app = TestApp::spawn().await;
    let (user, session) = app.signed_in("zoe@example.ch").await;
    settle().await;
    let secret = started_secret(&app, &session).await;
    for offset in [-2, 2] {
        problem(
            confirm(&app, &session, &totp_code(&secret, offset)).await,
            422,
            "invalid_code",
        )
        .await;
    }
    // A slow clock: the previous step's code.
    assert_eq!(
        confirm(&app, &session, &totp_code(&secret, -1))
            .await
            .status(),
        200
    );
    let mfa_token = app.mfa_token(&user).await;
    problem(
        mfa(
            &app,
            json!({"mfa_token": mfa_token, "code": totp_code(&secret, 2)}),
        )
        .await,
        401,
        "invalid_credentials",
    )
    .await;
    // A fast clock: the next step's code.
    let res = mfa(
        &app,
        json!({"mfa_token": mfa_token, "code": totp_code(&secret, 1)}),
    )
    .await;
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn r16_each_code_works_once_and_a_replay_is_refused_and_recorded() {
    let app = TestApp::spawn().await;
    let (user, session) = app.signed_in("zoe@example.ch").await;
    settle().await;
    let secret = started_secret(&app, &session).await;
    let used = totp_code(&secret, 0);
    assert_eq!(confirm(&app, &session, &used).await.status(), 200);

    // The code that turned 2FA on cannot sign in.
    let mfa_token = app.mfa_token(&user).await;
    problem(
        mfa(&app, json!({"mfa_token": mfa_token, "code": used})).await,
        401,
        "invalid_credentials",
    )
    .await;
    let next = totp_code(&secret, 1);
    let res = mfa(&app, json!({"mfa_token": mfa_token, "code": next})).await;
    assert_eq!(res.status(), 200);
    let tokens: Value = res.json().await.unwrap();
    // The same code again, even with a fresh mfa token: refused.
    let mfa_token = app.mfa_token(&user).await;
    problem(
        mfa(&app, json!({"mfa_token": mfa_token, "code": next})).await,
        401,
        "invalid_credentials",
    )
    .await;
    // Nor does it re-authenticate.
    let second = TestSession {
        access_token: tokens["access_token"].as_str().unwrap().to_string(),
        refresh_token: tokens["refresh_token"].as_str().unwrap().to_string(),
        session_id: tokens["session_id"].as_str().unwrap().to_string(),
    };
    problem(
        reauthenticate(&app, &second, json!({"password": PASSWORD, "code": next})).await,
        401,
        "invalid_credentials",
    )
    .await;

    // Replays are recorded, and are not counted as failed attempts.
    let actions = app.activities_of(&user.id).await;
    assert_eq!(
        count(&actions, "two_factor.code_replayed"),
        3,
        "{actions:?}"
    );
    assert_eq!(count(&actions, "login.failed"), 0, "{actions:?}");
    assert_eq!(failed_logins(&app, &user.id).await, 0);
}

#[tokio::test]
async fn r16_login_asks_for_the_second_factor_then_gives_working_tokens() {
    let app = TestApp::spawn().await;
    let (user, session) = app.signed_in("zoe@example.ch").await;
    let two_factor = app.enable_two_factor(&session).await;

    let res = app
        .post_json(
            "/v1/auth/login",
            json!({"email": user.email, "password": PASSWORD}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["mfa_required"], true);
    assert!(body.get("access_token").is_none(), "{body}");
    let mfa_token = body["mfa_token"].as_str().unwrap().to_string();
    // The mfa token opens nothing by itself.
    problem(
        send(&app, Method::GET, "/v1/me", &mfa_token, None).await,
        401,
        "unauthenticated",
    )
    .await;

    let code = app.next_totp_code(&user.id, &two_factor).await;
    for body in [
        json!({"mfa_token": mfa_token}),
        json!({"mfa_token": mfa_token, "code": code, "recovery_code": two_factor.recovery_codes[0]}),
        json!({"mfa_token": mfa_token, "code": code, "remember": true}),
        json!({"code": code}),
    ] {
        problem(mfa(&app, body).await, 422, "validation_failed").await;
    }
    // Neither a made-up token nor an access token is an mfa token.
    for token in ["not.a.token", session.access_token.as_str()] {
        problem(
            mfa(&app, json!({"mfa_token": token, "code": code})).await,
            401,
            "invalid_credentials",
        )
        .await;
    }
    let before = app.activities_of(&user.id).await.len();
    let res = mfa(&app, json!({"mfa_token": mfa_token, "code": code})).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let tokens: Value = res.json().await.unwrap();
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(amr_of(access), json!(["pwd", "otp"]));
    let res = send(&app, Method::GET, "/v1/me", access, None).await;
    assert_eq!(res.status(), 200);
    let res = app
        .post_json(
            "/v1/auth/refresh",
            json!({"refresh_token": tokens["refresh_token"]}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let actions = app.activities_of(&user.id).await;
    assert_eq!(actions[before..], ["login.succeeded"]);
}

#[tokio::test]
async fn r16_a_recovery_code_signs_in_once() {
    let app = TestApp::spawn().await;
    let (user, session) = app.signed_in("zoe@example.ch").await;
    let two_factor = app.enable_two_factor(&session).await;
    let first = two_factor.recovery_codes[0].clone();

    // Dashes and case do not matter.
    let mfa_token = app.mfa_token(&user).await;
    let res = mfa(
        &app,
        json!({"mfa_token": mfa_token, "recovery_code": first.replace('-', "").to_uppercase()}),
    )
    .await;
    assert_eq!(res.status(), 200);
    let tokens: Value = res.json().await.unwrap();
    assert!(tokens["access_token"].is_string());

    // Used up: a second use (with a new password step) is a failed attempt.
    let mfa_token = app.mfa_token(&user).await;
    problem(
        mfa(
            &app,
            json!({"mfa_token": mfa_token, "recovery_code": first}),
        )
        .await,
        401,
        "invalid_credentials",
    )
    .await;
    assert_eq!(failed_logins(&app, &user.id).await, 1);
    let res = mfa(
        &app,
        json!({"mfa_token": mfa_token, "recovery_code": two_factor.recovery_codes[1]}),
    )
    .await;
    assert_eq!(res.status(), 200);

    let id = user.id.clone();
    let used: i64 = app
        .with_conn(move |c| {
            use leman::db::schema::recovery_codes;
            recovery_codes::table
                .filter(recovery_codes::user_id.eq(id))
                .filter(recovery_codes::used_at.is_not_null())
                .count()
                .get_result(c)
                .unwrap()
        })
        .await;
    assert_eq!(used, 2);
    let actions = app.activities_of(&user.id).await;
    assert_eq!(count(&actions, "login.succeeded"), 3, "{actions:?}");
    assert_eq!(count(&actions, "login.failed"), 1, "{actions:?}");
}

#[tokio::test]
async fn r16_wrong_codes_lock_the_account_at_its_threshold() {
    // More sign-in steps than a person makes in a minute: the rate limit is not under test.
    let app = TestApp::builder()
        .env("LEMAN_AUTH_RATE_PER_ACCOUNT", "100")
        .env("LEMAN_AUTH_RATE_PER_IP", "100")
        .spawn()
        .await;
    let user = app.create_user_in("zoe@example.ch", "fr").await;
    let session = app.login(&user).await;
    let two_factor = app.enable_two_factor(&session).await;
    app.set_lock_threshold(&user.id, 3).await;

    let mfa_token = app.mfa_token(&user).await;
    let wrong = totp_code(&two_factor.secret, 5);
    for _ in 0..2 {
        problem(
            mfa(&app, json!({"mfa_token": mfa_token, "code": wrong})).await,
            401,
            "invalid_credentials",
        )
        .await;
    }
    assert_eq!(failed_logins(&app, &user.id).await, 2);
    // Not locked yet: a right code still works and starts the count again.
    let code = app.next_totp_code(&user.id, &two_factor).await;
    assert_eq!(
        mfa(&app, json!({"mfa_token": mfa_token, "code": code}))
            .await
            .status(),
        200
    );
    assert_eq!(failed_logins(&app, &user.id).await, 0);
    // (an mfa_token signs in once: the next attempts start from a new password step)
    let mfa_token = app.mfa_token(&user).await;
    for _ in 0..3 {
        problem(
            mfa(&app, json!({"mfa_token": mfa_token, "code": wrong})).await,
            401,
            "invalid_credentials",
        )
        .await;
    }
    // Locked at the third: the right code and the right password get the same answer.
    let code = app.next_totp_code(&user.id, &two_factor).await;
    problem(
        mfa(&app, json!({"mfa_token": mfa_token, "code": code})).await,
        401,
        "invalid_credentials",
    )
    .await;
    problem(
        app.post_json(
            "/v1/auth/login",
            json!({"email": user.email, "password": PASSWORD}),
        )
        .await,
        401,
        "invalid_credentials",
    )
    .await;
    let actions = app.activities_of(&user.id).await;
    assert_eq!(count(&actions, "account.locked"), 1, "{actions:?}");
    // The owner gets the lock mail, in French, with an unlock link.
    // Mails: 2FA on, four failure alerts, then the lock.
    let mails = app.wait_for_mails("zoe@example.ch", 6).await;
    let lock = mails
        .iter()
        .map(|m| mail_text(m))
        .find(|t| t.contains("/unlock?token="))
        .expect("a lock mail");
    assert!(lock.contains("verrouillé"), "{lock}");
}

#[tokio::test]
async fn r16_turning_two_factor_off_needs_a_recent_authentication_with_both_factors() {
    let app = TestApp::spawn().await;
    let user = app.create_user_in("zoe@example.ch", "fr").await;
    let session = app.login(&user).await;
    let two_factor = app.enable_two_factor(&session).await;
    let enabled = mail_text(&app.wait_for_mail("zoe@example.ch").await);
    assert!(
        enabled.contains("La double authentification vient d’être activée"),
        "{enabled}"
    );

    app.make_session_not_recent(&session).await;
    problem(
        disable(&app, &session.access_token).await,
        403,
        "reauthentication_required",
    )
    .await;
    problem(
        regenerate(&app, &session.access_token).await,
        403,
        "reauthentication_required",
    )
    .await;

    // With 2FA on, the code is required, and both factors must be right.
    let body = problem(
        reauthenticate(&app, &session, json!({"password": PASSWORD})).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "/code");
    let code = app.next_totp_code(&user.id, &two_factor).await;
    problem(
        reauthenticate(
            &app,
            &session,
            json!({"password": "not my password at all", "code": code}),
        )
        .await,
        401,
        "invalid_credentials",
    )
    .await;
    problem(
        reauthenticate(
            &app,
            &session,
            json!({"password": PASSWORD, "code": totp_code(&two_factor.secret, 5)}),
        )
        .await,
        401,
        "invalid_credentials",
    )
    .await;
    assert_eq!(failed_logins(&app, &user.id).await, 2);
    problem(
        disable(&app, &session.access_token).await,
        403,
        "reauthentication_required",
    )
    .await;
    // Each failed attempt is a failed login: recorded, and told to the owner (after the mail
    // that 2FA is on).
    let actions = app.activities_of(&user.id).await;
    let tail: Vec<&str> = actions.iter().map(String::as_str).skip(4).collect();
    assert_eq!(tail, ["login.failed", "login.failed"]);
    app.wait_for_mails("zoe@example.ch", 3).await;
}

#[tokio::test]
async fn r16_turning_two_factor_off_needs_a_recent_authentication_then_nothing_of_it_is_left() {
    let app = TestApp::spawn().await;
    let user = app.create_user_in("zoe@example.ch", "fr").await;
    let session = app.login(&user).await;
    let two_factor = app.enable_two_factor(&session).await;
    app.make_session_not_recent(&session).await;
    let code = app.next_totp_code(&user.id, &two_factor).await;

    let res = reauthenticate(&app, &session, json!({"password": PASSWORD, "code": code})).await;
    assert_eq!(res.status(), 204);
    assert_eq!(failed_logins(&app, &user.id).await, 0);
    let res = regenerate(&app, &session.access_token).await;
    assert_eq!(res.status(), 200);
    let res = disable(&app, &session.access_token).await;
    assert_eq!(res.status(), 204);
    assert_eq!(me(&app, &session).await["two_factor_enabled"], false);
    problem(
        disable(&app, &session.access_token).await,
        409,
        "two_factor_not_enabled",
    )
    .await;

    // Everything of the old second factor is gone, and the login asks for the password only.
    let id = user.id.clone();
    let (secret, step, codes) = app
        .with_conn(move |c| {
            use leman::db::schema::{recovery_codes, users};
            let (secret, step): (Option<String>, Option<i64>) = users::table
                .find(&id)
                .select((users::totp_secret, users::totp_last_step))
                .first(c)
                .unwrap();
            let codes: i64 = recovery_codes::table
                .filter(recovery_codes::user_id.eq(&id))
                .count()
                .get_result(c)
                .unwrap();
            (secret, step, codes)
        })
        .await;
    assert_eq!((secret, step, codes), (None, None, 0));
    app.login(&user).await;

    // Two mails now: 2FA on, then 2FA off.
    let mails = app.wait_for_mails("zoe@example.ch", 2).await;
    let disabled = mails
        .iter()
        .map(|m| mail_text(m))
        .find(|t| t.contains("désactivée"))
        .expect("a mail saying 2FA is off");
    assert!(disabled.contains("Adresse IP : 127.0.0.1"), "{disabled}");

    let actions = app.activities_of(&user.id).await;
    let tail: Vec<&str> = actions.iter().map(String::as_str).skip(4).collect();
    assert_eq!(
        tail,
        [
            "session.reauthenticated",
            "two_factor.recovery_codes_regenerated",
            "two_factor.disabled",
            "login.succeeded"
        ]
    );
}

#[tokio::test]
async fn r16_new_recovery_codes_replace_the_old_ones() {
    let app = TestApp::spawn().await;
    let (user, session) = app.signed_in("zoe@example.ch").await;
    let old = app.enable_two_factor(&session).await.recovery_codes;
    let res = regenerate(&app, &session.access_token).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let body: Value = res.json().await.unwrap();
    let new: Vec<String> = body["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    assert_eq!(new.len(), 10);
    assert!(new.iter().all(|c| !old.contains(c)));
    let mfa_token = app.mfa_token(&user).await;
    problem(
        mfa(
            &app,
            json!({"mfa_token": mfa_token, "recovery_code": old[0]}),
        )
        .await,
        401,
        "invalid_credentials",
    )
    .await;
    assert_eq!(
        mfa(
            &app,
            json!({"mfa_token": mfa_token, "recovery_code": new[0]})
        )
        .await
        .status(),
        200
    );
}

#[tokio::test]
async fn reauthentication_without_two_factor_needs_the_password_only() {
    let app = TestApp::spawn().await;
    let (user, session) = app.signed_in("zoe@example.ch").await;
    app.make_session_not_recent(&session).await;
    problem(
        disable(&app, &session.access_token).await,
        403,
        "reauthentication_required",
    )
    .await;
    let res = reauthenticate(&app, &session, json!({"password": PASSWORD})).await;
    assert_eq!(res.status(), 204);
    // Recent again: the sensitive route now gets past the check (and finds nothing to turn off).
    problem(
        disable(&app, &session.access_token).await,
        409,
        "two_factor_not_enabled",
    )
    .await;
    problem(
        reauthenticate(&app, &session, json!({"password": PASSWORD, "extra": 1})).await,
        422,
        "validation_failed",
    )
    .await;
    problem(
        app.post_json("/v1/auth/reauthenticate", json!({"password": PASSWORD}))
            .await,
        401,
        "unauthenticated",
    )
    .await;
    assert_eq!(
        app.activities_of(&user.id).await,
        [
            "user.signed_up",
            "login.succeeded",
            "session.reauthenticated"
        ]
    );
}

#[tokio::test]
async fn r16_tokens_never_change_two_factor_nor_reauthenticate() {
    let app = TestApp::spawn().await;
    let (user, session) = app.signed_in("zoe@example.ch").await;
    let token = app.personal_token(&user.id).await;
    // The token itself works.
    let res = send(&app, Method::GET, "/v1/me", &token, None).await;
    assert_eq!(res.status(), 200);

    problem(
        send(&app, Method::POST, "/v1/me/two-factor/totp", &token, None).await,
        403,
        "session_required",
    )
    .await;
    problem(
        send(
            &app,
            Method::POST,
            "/v1/me/two-factor/totp/confirm",
            &token,
            Some(json!({"code": "123456"})),
        )
        .await,
        403,
        "session_required",
    )
    .await;
    problem(
        send(
            &app,
            Method::POST,
            "/v1/auth/reauthenticate",
            &token,
            Some(json!({"password": PASSWORD})),
        )
        .await,
        403,
        "session_required",
    )
    .await;
    // Even with 2FA on (turned on by the person), the token cannot touch it.
    app.enable_two_factor(&session).await;
    problem(
        regenerate(&app, &token).await,
        403,
        "reauthentication_required",
    )
    .await;
    problem(
        disable(&app, &token).await,
        403,
        "reauthentication_required",
    )
    .await;
    assert_eq!(me(&app, &session).await["two_factor_enabled"], true);
}

#[tokio::test]
async fn the_second_login_step_is_rate_limited_per_ip() {
    let app = TestApp::builder()
        .env("LEMAN_AUTH_RATE_PER_IP", "2")
        .spawn()
        .await;
    for _ in 0..2 {
        problem(
            mfa(&app, json!({"mfa_token": "x.y.z", "code": "123456"})).await,
            401,
            "invalid_credentials",
        )
        .await;
    }
    let res = mfa(&app, json!({"mfa_token": "x.y.z", "code": "123456"})).await;
    assert!(res.headers().contains_key("retry-after"));
    problem(res, 429, "rate_limited").await;
}

#[tokio::test]
async fn an_mfa_token_signs_in_once_and_not_after_a_password_change() {
    let app = TestApp::spawn().await;
    let (user, session) = app.signed_in("zoe@example.ch").await;
    let two_factor = app.enable_two_factor(&session).await;
    let codes = &two_factor.recovery_codes;
    let mfa_token = app.mfa_token(&user).await;
    let res = mfa(
        &app,
        json!({"mfa_token": mfa_token, "recovery_code": codes[0]}),
    )
    .await;
    assert_eq!(res.status(), 200);
    problem(
        mfa(
            &app,
            json!({"mfa_token": mfa_token, "recovery_code": codes[1]}),
        )
        .await,
        401,
        "invalid_credentials",
    )
    .await;
    // A password change withdraws a password step still waiting for its code.
    let waiting = app.mfa_token(&user).await;
    let res = send(
        &app,
        Method::PUT,
        "/v1/me/password",
        &session,
        Some(json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD})),
    )
    .await;
    assert_eq!(res.status(), 204);
    problem(
        mfa(
            &app,
            json!({"mfa_token": waiting, "recovery_code": codes[1]}),
        )
        .await,
        401,
        "invalid_credentials",
    )
    .await;
}

#[tokio::test]
async fn starting_enrolment_needs_a_recent_authentication() {
    let app = TestApp::spawn().await;
    let (_, session) = app.signed_in("zoe@example.ch").await;
    app.make_session_not_recent(&session).await;
    let start = || send(&app, Method::POST, "/v1/me/two-factor/totp", &session, None);
    problem(start().await, 403, "reauthentication_required").await;
    let res = reauthenticate(&app, &session, json!({"password": PASSWORD})).await;
    assert_eq!(res.status(), 204);
    assert_eq!(start().await.status(), 200);
}
