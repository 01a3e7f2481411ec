//! Changing one's password, and the forgotten-password reset (R5).

use diesel::prelude::*;
use reqwest::Method;
use serde_json::json;

use crate::helpers::{
    NEW_PASSWORD, PASSWORD, TestApp, TestSession, TestUser, confirm_recovery, count, link_token,
    login_status, me_status, my_activity_details, problem, send, texts_to,
};

async fn change(
    app: &TestApp,
    session: &TestSession,
    current: &str,
    new: &str,
) -> reqwest::Response {
    send(
        app,
        Method::PUT,
        "/v1/me/password",
        &session,
        Some(json!({"current_password": current, "new_password": new})),
    )
    .await
}

#[tokio::test]
async fn changing_the_password_ends_the_other_sessions_but_not_this_one() {
    let app = TestApp::spawn().await;
    let user = app.create_user_in("zoe@example.ch", "de").await;
    let here = app.login(&user).await;
    let elsewhere = app.login(&user).await;
    // A reset link asked for earlier stops working once the password changes.
    app.post_json(
        "/v1/auth/password-reset/request",
        json!({"email": user.email}),
    )
    .await;
    let reset_token = link_token(
        &reset_mail_to(&app, "zoe@example.ch").await,
        "/reset-password",
    );

    let res = change(&app, &here, PASSWORD, NEW_PASSWORD).await;
    assert_eq!(res.status(), 204);

    assert_eq!(me_status(&app, &here).await, 200, "this session goes on");
    assert_eq!(
        me_status(&app, &elsewhere).await,
        401,
        "the other one ended"
    );
    problem(
        app.post_json(
            "/v1/auth/refresh",
            json!({"refresh_token": elsewhere.refresh_token}),
        )
        .await,
        401,
        "unauthenticated",
    )
    .await;
    assert_eq!(login_status(&app, &user.email, PASSWORD).await, 401);
    assert_eq!(login_status(&app, &user.email, NEW_PASSWORD).await, 200);
    problem(
        app.post_json(
            "/v1/auth/password-reset",
            json!({"token": reset_token, "new_password": "another fine passphrase here"}),
        )
        .await,
        400,
        "invalid_token",
    )
    .await;

    // The owner is told, in German, with where it came from.
    let text = app
        .wait_for_mail_containing("zoe@example.ch", "soeben geändert")
        .await;
    assert!(
        text.contains("Hallo Zoë") && text.contains("IP-Adresse: 127.0.0.1"),
        "{text}"
    );
    assert!(
        text.contains("https://app.leman.test/forgot-password"),
        "{text}"
    );

    let actions = app.activities_of(&user.id).await;
    assert_eq!(count(&actions, "password.changed"), 1, "{actions:?}");
}

#[tokio::test]
async fn a_wrong_current_password_is_refused_and_counts_as_a_failed_attempt() {
    let app = TestApp::spawn().await;
    let (user, session) = app.signed_in("zoe@example.ch").await;
    app.set_lock_threshold(&user.id, 2).await;

    let body = problem(
        change(&app, &session, "not my password at all", NEW_PASSWORD).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "/current_password", "{body}");
    assert_eq!(body["errors"][0]["code"], "wrong_password", "{body}");
    assert_eq!(body["errors"].as_array().unwrap().len(), 1, "{body}");
    let actions = app.activities_of(&user.id).await;
    assert_eq!(count(&actions, "login.failed"), 1, "{actions:?}");
    assert_eq!(count(&actions, "password.changed"), 0, "{actions:?}");
    // The failure alert went out like for a failed sign-in.
    app.wait_for_mail_containing("zoe@example.ch", "failed to sign in")
        .await;

    // A weak new password and a wrong current one: both reported at once.
    let body = problem(
        change(&app, &session, "still not my password", "password123").await,
        422,
        "validation_failed",
    )
    .await;
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["/current_password", "/new_password"], "{body}");

    // That second failure reached the threshold: the account is locked, and even the right
    // password no longer changes anything (no guessing past the lock from a session).
    let actions = app.activities_of(&user.id).await;
    assert_eq!(count(&actions, "account.locked"), 1, "{actions:?}");
    problem(
        change(&app, &session, PASSWORD, NEW_PASSWORD).await,
        403,
        "account_locked",
    )
    .await;
    // The password is unchanged.
    let hash_is_old = {
        let id = user.id.clone();
        app.with_conn(move |c| {
            use leman::db::schema::users;
            users::table
                .find(id)
                .select(users::password_hash)
                .first::<String>(c)
                .unwrap()
        })
        .await
    };
    assert!(
        leman::auth::password::verify(PASSWORD.into(), Some(hash_is_old))
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn a_weak_or_unchanged_new_password_is_refused_and_tokens_cannot_change_it() {
    let app = TestApp::spawn().await;
    let (user, session) = app.signed_in("zoe.muller@example.ch").await;
    let before = app.activities_of(&user.id).await.len();
    for (new, code) in [
        ("short", "password_too_short"),
        ("password123", "password_too_weak"),
        ("zoe.muller@example.ch", "password_too_weak"),
        (PASSWORD, "same_as_current"),
    ] {
        let body = problem(
            change(&app, &session, PASSWORD, new).await,
            422,
            "validation_failed",
        )
        .await;
        assert_eq!(body["errors"][0]["field"], "/new_password", "{new}: {body}");
        assert_eq!(body["errors"][0]["code"], code, "{new}: {body}");
    }
    let long = "x".repeat(129);
    let body = problem(
        change(&app, &session, PASSWORD, &long).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(body["errors"][0]["code"], "password_too_long");
    // Unknown fields are refused.
    let res = send(
        &app,
        Method::PUT,
        "/v1/me/password",
        &session,
        Some(json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD, "logout": false})),
    )
    .await;
    problem(res, 422, "validation_failed").await;

    // A personal token has no session to keep: refused.
    let token = app.personal_token(&user.id).await;
    let res = send(
        &app,
        Method::PUT,
        "/v1/me/password",
        &token,
        Some(json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD})),
    )
    .await;
    problem(res, 403, "session_required").await;
    problem(
        app.client
            .put(app.url("/v1/me/password"))
            .json(&json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD}))
            .send()
            .await
            .unwrap(),
        401,
        "unauthenticated",
    )
    .await;

    assert_eq!(
        app.activities_of(&user.id).await.len(),
        before,
        "refused requests write nothing"
    );
    assert_eq!(login_status(&app, &user.email, PASSWORD).await, 200);
}

async fn reset_mail_to(app: &TestApp, to: &str) -> String {
    app.wait_for_mail_containing(to, "/reset-password?token=")
        .await
}

#[tokio::test]
async fn r5_the_reset_link_goes_to_the_verified_recovery_address() {
    let app = TestApp::spawn().await;
    // With a confirmed recovery address: the link goes there, and only there.
    let with = app.create_user_in("zoe@example.ch", "fr").await;
    let session = app.login(&with).await;
    confirm_recovery(&app, &session, "zoe.backup@example.org").await;
    let res = app
        .post_json(
            "/v1/auth/password-reset/request",
            json!({"email": "Zoe@Example.ch"}),
        )
        .await;
    assert_eq!(res.status(), 202);
    let text = reset_mail_to(&app, "zoe.backup@example.org").await;
    assert!(
        text.contains("Bonjour Zoë") && text.contains("60 minutes"),
        "{text}"
    );
    assert!(
        text.contains("https://app.leman.test/reset-password?token="),
        "{text}"
    );
    assert!(
        texts_to(&app, "zoe@example.ch")
            .iter()
            .all(|t| !t.contains("/reset-password?token=")),
        "the login address gets no reset link"
    );

    // Without one, or with one still pending: the login address.
    let without = app.create_user_in("ugo@example.ch", "it").await;
    let pending = app.create_user_in("eva@example.ch", "es").await;
    let session = app.login(&pending).await;
    let res = send(
        &app,
        Method::PUT,
        "/v1/me/recovery-email",
        &session,
        Some(json!({"email": "eva.backup@example.org"})),
    )
    .await;
    assert_eq!(res.status(), 202);
    for user in [&without, &pending] {
        app.post_json(
            "/v1/auth/password-reset/request",
            json!({"email": user.email}),
        )
        .await;
    }
    let text = reset_mail_to(&app, "ugo@example.ch").await;
    assert!(
        text.contains("Ciao Zoë") && text.contains("60 minuti"),
        "{text}"
    );
    let text = reset_mail_to(&app, "eva@example.ch").await;
    assert!(text.contains("Hola Zoë"), "{text}");
    assert!(
        texts_to(&app, "eva.backup@example.org")
            .iter()
            .all(|t| !t.contains("/reset-password?token=")),
        "an unconfirmed address gets no reset link"
    );

    for user in [&with, &without, &pending] {
        let actions = app.activities_of(&user.id).await;
        assert_eq!(
            count(&actions, "password.reset_requested"),
            1,
            "{actions:?}"
        );
    }
}

async fn lock(app: &TestApp, user: &TestUser) {
    app.set_lock_threshold(&user.id, 3).await;
    for _ in 0..3 {
        assert_eq!(
            login_status(app, &user.email, "definitely not it").await,
            401
        );
    }
    assert_eq!(
        login_status(app, &user.email, PASSWORD).await,
        401,
        "locked"
    );
}

#[tokio::test]
async fn r5_a_reset_link_works_once_ends_every_session_and_unlocks_the_account() {
    let app = TestApp::spawn().await;
    let user = app.create_user("zoe@example.ch").await;
    let first = app.login(&user).await;
    let second = app.login(&user).await;
    lock(&app, &user).await;

    app.post_json(
        "/v1/auth/password-reset/request",
        json!({"email": user.email}),
    )
    .await;
    let text = reset_mail_to(&app, "zoe@example.ch").await;
    let token = link_token(&text, "/reset-password");

    // A password the policy refuses leaves the link usable.
    let body = problem(
        app.post_json(
            "/v1/auth/password-reset",
            json!({"token": token, "new_password": "password123"}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "/new_password");
    assert_eq!(me_status(&app, &first).await, 200, "nothing changed yet");

    let res = app
        .post_json(
            "/v1/auth/password-reset",
            json!({"token": token, "new_password": NEW_PASSWORD}),
        )
        .await;
    assert_eq!(res.status(), 204);
    assert!(
        res.text().await.unwrap().is_empty(),
        "no tokens: a reset does not sign in"
    );
    // Single use.
    problem(
        app.post_json(
            "/v1/auth/password-reset",
            json!({"token": token, "new_password": "yet another passphrase here"}),
        )
        .await,
        400,
        "invalid_token",
    )
    .await;
    problem(
        app.post_json(
            "/v1/auth/password-reset",
            json!({"token": "not-a-token", "new_password": NEW_PASSWORD}),
        )
        .await,
        400,
        "invalid_token",
    )
    .await;
    // Every session ended.
    assert_eq!(me_status(&app, &first).await, 401);
    assert_eq!(me_status(&app, &second).await, 401);
    // Unlocked; the old password fails, the new one works.
    assert_eq!(login_status(&app, &user.email, PASSWORD).await, 401);
    assert_eq!(login_status(&app, &user.email, NEW_PASSWORD).await, 200);

    // The owner is told.
    app.wait_for_mail_containing(
        "zoe@example.ch",
        "password of your Leman account was just changed",
    )
    .await;
    let actions = app.activities_of(&user.id).await;
    assert_eq!(count(&actions, "password.reset"), 1, "{actions:?}");
    // What the reset did, as its owner reads it.
    let renewed = TestUser {
        password: NEW_PASSWORD.to_string(),
        ..user.clone()
    };
    let session = app.login(&renewed).await;
    let details = my_activity_details(&app, &session, "password.reset").await;
    assert_eq!(details.len(), 1, "{details:?}");
    let details = &details[0];
    assert_eq!(
        *details,
        json!({"sessions_ended": 2, "unlocked": true, "tokens_revoked": 0}),
        "{details}"
    );
}

#[tokio::test]
async fn reset_requests_look_the_same_for_known_and_unknown_addresses() {
    let app = TestApp::spawn().await;
    let user = app.create_user("known@example.ch").await;
    let mut bodies = vec![];
    for email in ["known@example.ch", "unknown@example.ch", "not an address"] {
        let res = app
            .post_json("/v1/auth/password-reset/request", json!({"email": email}))
            .await;
        assert_eq!(res.status(), 202, "{email}");
        bodies.push(res.text().await.unwrap());
    }
    assert!(bodies.iter().all(|b| *b == bodies[0]), "{bodies:?}");
    reset_mail_to(&app, "known@example.ch").await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(app.mails().len(), 1, "only the known address gets a mail");
    let all = app
        .with_conn(|c| {
            use leman::db::schema::activities as a;
            a::table
                .filter(a::action.eq("password.reset_requested"))
                .select(a::actor_user_id)
                .load::<Option<String>>(c)
                .unwrap()
        })
        .await;
    assert_eq!(all, [Some(user.id.clone())]);
    problem(
        app.post_json("/v1/auth/password-reset/request", json!({"mail": "x"}))
            .await,
        422,
        "validation_failed",
    )
    .await;
}

#[tokio::test]
async fn after_a_reset_the_next_login_still_asks_for_the_second_factor() {
    let app = TestApp::spawn().await;
    let user = app.create_user("zoe@example.ch").await;
    let id = user.id.clone();
    app.with_conn(move |c| {
        use leman::db::schema::users;
        diesel::update(users::table.find(id))
            .set((
                users::totp_secret.eq(Some("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")),
                users::totp_enabled_at.eq(Some(leman::db::now())),
            ))
            .execute(c)
            .unwrap();
    })
    .await;
    app.post_json(
        "/v1/auth/password-reset/request",
        json!({"email": user.email}),
    )
    .await;
    let token = link_token(
        &reset_mail_to(&app, "zoe@example.ch").await,
        "/reset-password",
    );
    let res = app
        .post_json(
            "/v1/auth/password-reset",
            json!({"token": token, "new_password": NEW_PASSWORD}),
        )
        .await;
    assert_eq!(res.status(), 204);
    let res = app
        .post_json(
            "/v1/auth/login",
            json!({"email": user.email, "password": NEW_PASSWORD}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["mfa_required"], true, "{body}");
    assert!(body.get("access_token").is_none(), "{body}");
}

/// Asks, as `session`, for the login address and the recovery address to change to addresses an
/// intruder reads; returns the two confirmation tokens mailed there.
async fn intruder_address_changes(app: &TestApp, session: &TestSession) -> (String, String) {
    let res = send(app, Method::PUT, "/v1/me/login-email", &session, Some(json!({"new_email": "intruder@evil.example", "new_email_confirmation": "intruder@evil.example", "password": PASSWORD}))).await;
    assert_eq!(res.status(), 202);
    let res = send(
        app,
        Method::PUT,
        "/v1/me/recovery-email",
        &session,
        Some(json!({"email": "backdoor@evil.example"})),
    )
    .await;
    assert_eq!(res.status(), 202);
    let login = link_token(
        &app.wait_for_mail_containing("intruder@evil.example", "/confirm-login-email?token=")
            .await,
        "/confirm-login-email",
    );
    let recovery = link_token(
        &app.wait_for_mail_containing("backdoor@evil.example", "/confirm-recovery-email?token=")
            .await,
        "/confirm-recovery-email",
    );
    (login, recovery)
}

/// Neither confirmation goes through, and the account still signs in at its own address.
async fn address_changes_are_withdrawn(app: &TestApp, tokens: (String, String)) {
    let res = app
        .post_json("/v1/users/confirm-login-email", json!({"token": tokens.0}))
        .await;
    problem(res, 400, "invalid_token").await;
    let res = app
        .post_json("/v1/me/recovery-email/confirm", json!({"token": tokens.1}))
        .await;
    problem(res, 400, "invalid_token").await;
    assert_eq!(login_status(app, "zoe@example.ch", NEW_PASSWORD).await, 200);
    assert_eq!(
        login_status(app, "intruder@evil.example", NEW_PASSWORD).await,
        401
    );
}

#[tokio::test]
async fn a_reset_withdraws_the_address_changes_asked_for_before_it() {
    let app = TestApp::spawn().await;
    let (user, session) = app.signed_in("zoe@example.ch").await;
    let tokens = intruder_address_changes(&app, &session).await;
    app.post_json(
        "/v1/auth/password-reset/request",
        json!({"email": user.email}),
    )
    .await;
    let token = link_token(
        &reset_mail_to(&app, "zoe@example.ch").await,
        "/reset-password",
    );
    let res = app
        .post_json(
            "/v1/auth/password-reset",
            json!({"token": token, "new_password": NEW_PASSWORD}),
        )
        .await;
    assert_eq!(res.status(), 204);
    address_changes_are_withdrawn(&app, tokens).await;
}

#[tokio::test]
async fn a_password_change_withdraws_the_address_changes_asked_for_before_it() {
    let app = TestApp::spawn().await;
    let (_, session) = app.signed_in("zoe@example.ch").await;
    let tokens = intruder_address_changes(&app, &session).await;
    let res = change(&app, &session, PASSWORD, NEW_PASSWORD).await;
    assert_eq!(res.status(), 204);
    address_changes_are_withdrawn(&app, tokens).await;
}

#[tokio::test]
async fn password_confirmations_share_the_sign_in_rate_limit() {
    let app = TestApp::builder()
        .env("LEMAN_AUTH_RATE_PER_ACCOUNT", "3")
        .spawn()
        .await;
    let (_, session) = app.signed_in("zoe@example.ch").await;
    let mut statuses = Vec::new();
    for _ in 0..5 {
        let res = change(&app, &session, "not my password at all", NEW_PASSWORD).await;
        if res.status() == 429 {
            assert!(res.headers().contains_key("retry-after"));
        }
        statuses.push(res.status().as_u16());
    }
    assert!(statuses.contains(&429), "{statuses:?}");
    assert!(!statuses.contains(&204), "{statuses:?}");
}

/// An intruder's recovery address would receive the next reset link (R5): every password-changed
/// mail shows the owner where resets go, and says whether all sessions or only the others ended.
#[tokio::test]
async fn the_password_changed_mail_shows_where_resets_go_and_which_sessions_ended() {
    let app = TestApp::spawn().await;
    let user = app.create_user_in("zoe@example.ch", "en").await;
    let session = app.login(&user).await;
    confirm_recovery(&app, &session, "zoe.backup@example.org").await;
    let res = send(
        &app,
        Method::PUT,
        "/v1/me/password",
        &session,
        Some(json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD})),
    )
    .await;
    assert_eq!(res.status(), 204);
    let changed = app
        .wait_for_mail_containing(
            "zoe@example.ch",
            "password of your Leman account was just changed",
        )
        .await;
    assert!(
        changed.contains("Your other sessions have ended."),
        "{changed}"
    );
    assert!(
        changed.contains("Password resets go to your recovery address zoe.backup@example.org")
            && changed.contains("https://app.leman.test/settings/recovery-email"),
        "{changed}"
    );

    app.post_json(
        "/v1/auth/password-reset/request",
        json!({"email": "zoe@example.ch"}),
    )
    .await;
    let token = link_token(
        &reset_mail_to(&app, "zoe.backup@example.org").await,
        "/reset-password",
    );
    let res = app
        .post_json(
            "/v1/auth/password-reset",
            json!({"token": token, "new_password": "another fine passphrase here"}),
        )
        .await;
    assert_eq!(res.status(), 204);
    let reset = app
        .wait_for_mail_containing("zoe@example.ch", "All your sessions have ended.")
        .await;
    assert!(reset.contains("zoe.backup@example.org"), "{reset}");
}
