//! Security settings (login alerts, lock threshold) and unlocking a locked account (R11, R12).

use diesel::prelude::*;
use reqwest::Method;
use serde_json::json;

use crate::helpers::{
    PASSWORD, TestApp, TestUser, count, link_token, mail_text, my_activity_details, problem, send,
};

async fn put_settings(app: &TestApp, token: &str, body: serde_json::Value) -> reqwest::Response {
    send(
        app,
        Method::PUT,
        "/v1/me/security-settings",
        token,
        Some(body.clone()),
    )
    .await
}

async fn settings(app: &TestApp, token: &str) -> serde_json::Value {
    let res = send(app, Method::GET, "/v1/me/security-settings", token, None).await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

async fn wrong_login(app: &TestApp, email: &str) {
    problem(
        app.post_json(
            "/v1/auth/login",
            json!({"email": email, "password": "definitely not the password"}),
        )
        .await,
        401,
        "invalid_credentials",
    )
    .await;
}

async fn login_status(app: &TestApp, user: &TestUser) -> u16 {
    app.post_json(
        "/v1/auth/login",
        json!({"email": user.email, "password": PASSWORD}),
    )
    .await
    .status()
    .as_u16()
}

/// Mails to `to` whose text contains `needle`, as text.
fn mails_with(app: &TestApp, to: &str, needle: &str) -> Vec<String> {
    app.mails()
        .iter()
        .filter(|m| m.contains(&format!("To: {to}")))
        .map(|m| mail_text(m))
        .filter(|t| t.contains(needle))
        .collect()
}

/// Every mail queued so far (the outbox is written in the transaction of the change), as
/// (recipient, template), oldest first.
async fn outbox(app: &TestApp) -> Vec<(String, String)> {
    app.with_conn(|c| {
        use leman::db::schema::mails;
        mails::table
            .order((mails::created_at.asc(), mails::id.asc()))
            .select((mails::to_address, mails::template))
            .load(c)
            .unwrap()
    })
    .await
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

/// A verified, signed-in user whose account then locks after `n` failures; returns the user and
/// an access token.
async fn with_threshold(app: &TestApp, email: &str, language: &str, n: i64) -> (TestUser, String) {
    let user = app.create_user_in(email, language).await;
    let session = app.login(&user).await;
    let res = put_settings(
        app,
        &session.access_token,
        json!({"notify_on_login_success": false, "notify_on_login_failure": true, "lock_after_failed_logins": n}),
    )
    .await;
    assert_eq!(res.status(), 200);
    (user, session.access_token)
}

#[tokio::test]
async fn r12_settings_start_at_the_defaults_and_the_threshold_stays_within_3_to_100() {
    let app = TestApp::spawn().await;
    let (user, session) = app.signed_in("zoe@example.ch").await;
    let token = session.access_token;
    assert_eq!(
        settings(&app, &token).await,
        json!({"notify_on_login_success": false, "notify_on_login_failure": true, "lock_after_failed_logins": 10})
    );
    for refused in [2, 101, 0, -5, 4_294_967_299_i64] {
        let body = problem(
            put_settings(
                &app,
                &token,
                json!({"notify_on_login_success": true, "notify_on_login_failure": false, "lock_after_failed_logins": refused}),
            )
            .await,
            422,
            "validation_failed",
        )
        .await;
        assert_eq!(
            body["errors"][0]["field"], "/lock_after_failed_logins",
            "{body}"
        );
        assert_eq!(body["errors"][0]["code"], "out_of_range", "{body}");
    }
    // Every field is required, and nothing else is accepted.
    let body = problem(
        put_settings(
            &app,
            &token,
            json!({"notify_on_login_success": true, "lock_after_failed_logins": 5}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "/notify_on_login_failure");
    let body = problem(
        put_settings(
            &app,
            &token,
            json!({"notify_on_login_success": true, "notify_on_login_failure": true, "lock_after_failed_logins": 5, "lock_forever": true}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "/lock_forever");
    problem(
        put_settings(
            &app,
            &token,
            json!({"notify_on_login_success": "yes", "notify_on_login_failure": true, "lock_after_failed_logins": 5}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    // Refused requests changed nothing and recorded nothing.
    assert_eq!(settings(&app, &token).await["lock_after_failed_logins"], 10);
    assert_eq!(
        count(
            &app.activities_of(&user.id).await,
            "security_settings.updated"
        ),
        0
    );

    for accepted in [3, 100] {
        let sent = json!({"notify_on_login_success": true, "notify_on_login_failure": false, "lock_after_failed_logins": accepted});
        let res = put_settings(&app, &token, sent.clone()).await;
        assert_eq!(res.status(), 200);
        assert_eq!(res.json::<serde_json::Value>().await.unwrap(), sent);
        assert_eq!(settings(&app, &token).await, sent);
    }
    assert_eq!(
        count(
            &app.activities_of(&user.id).await,
            "security_settings.updated"
        ),
        2
    );
    let details = my_activity_details(&app, &token, "security_settings.updated").await;
    let last = details.last().unwrap();
    assert_eq!(last["changed"], json!(["lock_after_failed_logins"]));
    assert_eq!(last["lock_after_failed_logins"], 100);
    // No token, no settings.
    problem(
        app.get("/v1/me/security-settings").await,
        401,
        "unauthenticated",
    )
    .await;
}

#[tokio::test]
async fn loosening_the_settings_needs_a_recent_authentication_tightening_does_not() {
    let app = TestApp::spawn().await;
    let (user, session) = app.signed_in("zoe@example.ch").await;
    app.make_session_not_recent(&session).await;
    let token = session.access_token.clone();
    let personal = app
        .token_of_kind(&user.id, "personal", &["account:write"])
        .await;
    let defaults = json!({"notify_on_login_success": false, "notify_on_login_failure": true, "lock_after_failed_logins": 10});
    for loosened in [
        json!({"notify_on_login_success": false, "notify_on_login_failure": false, "lock_after_failed_logins": 10}),
        json!({"notify_on_login_success": false, "notify_on_login_failure": true, "lock_after_failed_logins": 11}),
    ] {
        for caller in [&token, &personal] {
            problem(
                put_settings(&app, caller, loosened.clone()).await,
                403,
                "reauthentication_required",
            )
            .await;
        }
    }
    assert_eq!(settings(&app, &token).await, defaults);
    let tightened = json!({"notify_on_login_success": true, "notify_on_login_failure": true, "lock_after_failed_logins": 5});
    for caller in [&token, &personal] {
        assert_eq!(
            put_settings(&app, caller, tightened.clone()).await.status(),
            200
        );
    }
    assert_eq!(settings(&app, &token).await, tightened);
}

#[tokio::test]
async fn r11_login_alerts_are_mailed_as_the_user_chose() {
    let app = TestApp::spawn().await;
    let user = app.create_user_in("zoe@example.ch", "de").await;
    let session = app.login(&user).await;
    assert!(outbox(&app).await.is_empty(), "no success alert by default");

    let res = put_settings(
        &app,
        &session.access_token,
        json!({"notify_on_login_success": true, "notify_on_login_failure": false, "lock_after_failed_logins": 10}),
    )
    .await;
    assert_eq!(res.status(), 200);
    // The next login is mailed, in the user's language, with where and on what.
    let res = app
        .client
        .post(app.url("/v1/auth/login"))
        .header(
            "User-Agent",
            "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
        )
        .json(&json!({"email": user.email, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        outbox(&app).await,
        pairs(&[("zoe@example.ch", "login_succeeded")])
    );
    let text = mail_text(&app.wait_for_mail("zoe@example.ch").await);
    assert!(text.contains("angemeldet"), "{text}");
    assert!(text.contains("IP-Adresse: 127.0.0.1"), "{text}");
    assert!(text.contains("Firefox on Linux"), "{text}");

    // Failures are no longer mailed (but still counted and recorded).
    wrong_login(&app, &user.email).await;
    assert_eq!(
        outbox(&app).await.len(),
        1,
        "no failure alert once turned off"
    );
    let actions = app.activities_of(&user.id).await;
    assert_eq!(count(&actions, "login.failed"), 1);
    assert_eq!(count(&actions, "security_settings.updated"), 1);

    // Turned back on: the next failure is mailed.
    put_settings(
        &app,
        &session.access_token,
        json!({"notify_on_login_success": false, "notify_on_login_failure": true, "lock_after_failed_logins": 10}),
    )
    .await;
    wrong_login(&app, &user.email).await;
    let mails = app.wait_for_mails("zoe@example.ch", 2).await;
    assert!(
        mails
            .iter()
            .any(|m| mail_text(m).contains("fehlgeschlagen")),
        "a failure alert"
    );
    // And successes no longer are.
    app.login(&user).await;
    assert_eq!(
        outbox(&app).await,
        pairs(&[
            ("zoe@example.ch", "login_succeeded"),
            ("zoe@example.ch", "login_failed")
        ])
    );
}

#[tokio::test]
async fn r12_a_threshold_of_3_locks_at_the_third_failure_and_the_link_unlocks_once() {
    let app = TestApp::spawn().await;
    let (user, _) = with_threshold(&app, "zoe@example.ch", "fr", 3).await;
    for _ in 0..2 {
        wrong_login(&app, &user.email).await;
    }
    // Two failures of three: not locked.
    assert_eq!(
        count(&app.activities_of(&user.id).await, "account.locked"),
        0
    );
    let id = user.id.clone();
    let locked_at = app
        .with_conn(move |c| {
            use leman::db::schema::users;
            users::table
                .find(id)
                .select(users::locked_at)
                .first::<Option<chrono::NaiveDateTime>>(c)
                .unwrap()
        })
        .await;
    assert!(locked_at.is_none());
    wrong_login(&app, &user.email).await;
    assert_eq!(
        count(&app.activities_of(&user.id).await, "account.locked"),
        1
    );
    // Locked: even the right password gets the common answer.
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

    // The lock mail (in French) carries the unlock link.
    app.wait_for_mails("zoe@example.ch", 3).await;
    let lock = mails_with(&app, "zoe@example.ch", "/unlock?token=");
    assert_eq!(lock.len(), 1);
    assert!(
        lock[0].contains("verrouillé") && lock[0].contains("60 minutes"),
        "{}",
        lock[0]
    );
    let token = link_token(&lock[0], "/unlock");

    let res = app
        .post_json("/v1/auth/unlock", json!({"token": token}))
        .await;
    assert_eq!(res.status(), 204);
    // Single use.
    problem(
        app.post_json("/v1/auth/unlock", json!({"token": token}))
            .await,
        400,
        "invalid_token",
    )
    .await;
    assert_eq!(login_status(&app, &user).await, 200);
    let actions = app.activities_of(&user.id).await;
    assert_eq!(count(&actions, "account.unlocked"), 1);
    assert_eq!(actions.last().unwrap(), "login.succeeded");

    // The count starts again after unlocking: two failures do not lock it.
    for _ in 0..2 {
        wrong_login(&app, &user.email).await;
    }
    assert_eq!(login_status(&app, &user).await, 200);
}

#[tokio::test]
async fn r12_unlock_tokens_must_be_valid_unused_and_fresh() {
    let app = TestApp::spawn().await;
    let (user, _) = with_threshold(&app, "zoe@example.ch", "en", 3).await;
    for _ in 0..3 {
        wrong_login(&app, &user.email).await;
    }
    app.wait_for_mails("zoe@example.ch", 3).await;
    let lock = mails_with(&app, "zoe@example.ch", "/unlock?token=");
    let token = link_token(&lock[0], "/unlock");

    for bad in [json!({"token": "not-a-token"}), json!({"token": ""})] {
        problem(
            app.post_json("/v1/auth/unlock", bad).await,
            400,
            "invalid_token",
        )
        .await;
    }
    problem(
        app.post_json("/v1/auth/unlock", json!({"token": token, "extra": 1}))
            .await,
        422,
        "validation_failed",
    )
    .await;
    problem(
        app.post_json("/v1/auth/unlock", json!({})).await,
        422,
        "validation_failed",
    )
    .await;
    // Past its hour the link no longer works, and the account stays locked.
    let id = user.id.clone();
    app.with_conn(move |c| {
        use leman::db::schema::one_time_tokens as t;
        diesel::update(t::table.filter(t::user_id.eq(id)))
            .set(t::expires_at.eq(leman::db::now() - chrono::Duration::seconds(1)))
            .execute(c)
            .unwrap();
    })
    .await;
    problem(
        app.post_json("/v1/auth/unlock", json!({"token": token}))
            .await,
        400,
        "invalid_token",
    )
    .await;
    assert_eq!(login_status(&app, &user).await, 401);
    assert_eq!(
        count(&app.activities_of(&user.id).await, "account.unlocked"),
        0
    );
}

#[tokio::test]
async fn r12_unlock_requests_answer_alike_and_only_locked_accounts_get_a_link() {
    let app = TestApp::spawn().await;
    let unlocked = app.create_user("free@example.ch").await;
    let (locked_de, _) = with_threshold(&app, "gesperrt@example.ch", "de", 3).await;
    let (locked_it, _) = with_threshold(&app, "bloccato@example.ch", "it", 3).await;
    for user in [&locked_de, &locked_it] {
        for _ in 0..3 {
            wrong_login(&app, &user.email).await;
        }
        app.wait_for_mails(&user.email, 3).await;
    }
    let old_de = link_token(
        &mails_with(&app, "gesperrt@example.ch", "/unlock?token=")[0],
        "/unlock",
    );

    let mut answers = Vec::new();
    for email in [
        "nobody@example.ch",
        "free@example.ch",
        "Gesperrt@Example.ch",
        "bloccato@example.ch",
        "not an address",
    ] {
        let res = app
            .post_json("/v1/auth/unlock/request", json!({"email": email}))
            .await;
        answers.push((
            res.status().as_u16(),
            res.headers()["content-type"].to_str().unwrap().to_string(),
            res.text().await.unwrap(),
        ));
    }
    assert_eq!(answers[0].0, 202);
    assert!(answers.iter().all(|a| *a == answers[0]), "{answers:?}");

    // Each locked owner gets a new link in their language; the unlocked account gets nothing.
    let de = app.wait_for_mails("gesperrt@example.ch", 4).await;
    let it = app.wait_for_mails("bloccato@example.ch", 4).await;
    let queued = outbox(&app).await;
    assert!(
        queued
            .iter()
            .all(|(to, _)| to == "gesperrt@example.ch" || to == "bloccato@example.ch"),
        "only locked accounts are mailed: {queued:?}"
    );
    let requests: Vec<&str> = queued
        .iter()
        .filter(|(_, template)| template == "unlock_link")
        .map(|(to, _)| to.as_str())
        .collect();
    assert_eq!(requests, ["gesperrt@example.ch", "bloccato@example.ch"]);
    let requested_de = mails_with(&app, "gesperrt@example.ch", "angefordert");
    let requested_it = mails_with(&app, "bloccato@example.ch", "richiesto un link");
    assert_eq!(
        (requested_de.len(), requested_it.len()),
        (1, 1),
        "{de:?} {it:?}"
    );
    assert!(
        requested_de[0].contains("60 Minuten"),
        "{}",
        requested_de[0]
    );
    assert!(
        requested_it[0].contains("Indirizzo IP: 127.0.0.1"),
        "{}",
        requested_it[0]
    );

    // The fresh link replaces the one of the lock mail.
    problem(
        app.post_json("/v1/auth/unlock", json!({"token": old_de}))
            .await,
        400,
        "invalid_token",
    )
    .await;
    let fresh = link_token(&requested_de[0], "/unlock");
    assert_eq!(
        app.post_json("/v1/auth/unlock", json!({"token": fresh}))
            .await
            .status(),
        204
    );
    assert_eq!(login_status(&app, &locked_de).await, 200);
    assert_eq!(login_status(&app, &locked_it).await, 401, "still locked");

    // One record per locked account asking; none for the others.
    assert_eq!(
        count(
            &app.activities_of(&locked_de.id).await,
            "account.unlock_requested"
        ),
        1
    );
    assert_eq!(
        count(
            &app.activities_of(&locked_it.id).await,
            "account.unlock_requested"
        ),
        1
    );
    assert_eq!(app.activities_of(&unlocked.id).await, ["user.signed_up"]);
}

#[tokio::test]
async fn r12_unlock_requests_are_rate_limited_per_ip() {
    let app = TestApp::builder()
        .env("LEMAN_AUTH_RATE_PER_IP", "2")
        .spawn()
        .await;
    for _ in 0..2 {
        let res = app
            .post_json("/v1/auth/unlock/request", json!({"email": "x@example.ch"}))
            .await;
        assert_eq!(res.status(), 202);
    }
    let res = app
        .post_json("/v1/auth/unlock/request", json!({"email": "y@example.ch"}))
        .await;
    assert!(res.headers().contains_key("retry-after"), "{res:?}");
    problem(res, 429, "rate_limited").await;
    problem(
        app.post_json("/v1/auth/unlock", json!({"token": "whatever"}))
            .await,
        429,
        "rate_limited",
    )
    .await;
}
