//! The login ID (R4) and the recovery address (R6).

use reqwest::Method;
use serde_json::json;

use crate::helpers::{
    PASSWORD, TestApp, TestSession, confirm_recovery, count, link_token, login_status, me_status,
    problem, send, texts_to,
};

async fn change_login(
    app: &TestApp,
    session: &TestSession,
    new: &str,
    confirmation: &str,
    password: &str,
) -> reqwest::Response {
    send(
        app,
        Method::PUT,
        "/v1/me/login-email",
        &session,
        Some(
            json!({"new_email": new, "new_email_confirmation": confirmation, "password": password}),
        ),
    )
    .await
}

async fn set_recovery(app: &TestApp, token: &str, email: &str) -> reqwest::Response {
    send(
        app,
        Method::PUT,
        "/v1/me/recovery-email",
        token,
        Some(json!({"email": email})),
    )
    .await
}

async fn me(app: &TestApp, session: &TestSession) -> serde_json::Value {
    let res = send(app, Method::GET, "/v1/me", &session, None).await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

fn field_errors(body: &serde_json::Value) -> Vec<(String, String)> {
    body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["field"].as_str().unwrap().to_string(),
                e["code"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn r4_a_new_login_is_typed_twice_differs_from_the_recovery_address_and_needs_the_password() {
    let app = TestApp::spawn().await;
    let (user, session) = app.signed_in("zoe@example.ch").await;
    app.create_user("taken@example.ch").await;
    confirm_recovery(&app, &session, "zoe.backup@example.org").await;
    let before = app.activities_of(&user.id).await.len();

    let cases = [
        (
            "new@example.ch",
            "neu@example.ch",
            ("/new_email_confirmation", "mismatch"),
        ),
        (
            "zoe.backup@example.org",
            "Zoe.Backup@example.org",
            ("/new_email", "same_as_recovery_email"),
        ),
        (
            "zoe@example.ch",
            "zoe@example.ch",
            ("/new_email", "same_as_current"),
        ),
        (
            "not an address",
            "not an address",
            ("/new_email", "invalid_email"),
        ),
    ];
    for (new, confirmation, expected) in cases {
        let body = problem(
            change_login(&app, &session, new, confirmation, PASSWORD).await,
            422,
            "validation_failed",
        )
        .await;
        assert_eq!(
            field_errors(&body),
            [(expected.0.to_string(), expected.1.to_string())],
            "{new}"
        );
    }
    assert_eq!(
        app.activities_of(&user.id).await.len(),
        before,
        "refused requests write nothing"
    );

    // Another account's login: refused, once the password is right.
    problem(
        change_login(
            &app,
            &session,
            "Taken@example.ch",
            "taken@example.ch",
            PASSWORD,
        )
        .await,
        409,
        "email_taken",
    )
    .await;

    // A wrong password is refused and counts as a failed attempt.
    app.set_lock_threshold(&user.id, 5).await;
    let body = problem(
        change_login(
            &app,
            &session,
            "new@example.ch",
            "new@example.ch",
            "not my password at all",
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(
        field_errors(&body),
        [("/password".to_string(), "wrong_password".to_string())]
    );
    let actions = app.activities_of(&user.id).await;
    assert_eq!(actions.len(), before + 1, "{actions:?}");
    assert_eq!(actions.last().unwrap(), "login.failed");

    // Nothing was mailed to any of the addresses tried, and the login is unchanged.
    for address in ["new@example.ch", "neu@example.ch", "taken@example.ch"] {
        assert!(texts_to(&app, address).is_empty(), "{address}");
    }
    assert_eq!(me(&app, &session).await["email"], "zoe@example.ch");

    // Tokens cannot change the login.
    let token = app.personal_token(&user.id).await;
    let res = send(&app, Method::PUT, "/v1/me/login-email", &token, Some(json!({"new_email": "new@example.ch", "new_email_confirmation": "new@example.ch", "password": PASSWORD}))).await;
    problem(res, 403, "session_required").await;
}

#[tokio::test]
async fn r4_the_new_login_applies_when_its_link_is_followed_and_the_old_address_is_told() {
    let app = TestApp::spawn().await;
    let user = app.create_user_in("zoe@example.ch", "de").await;
    let session = app.login(&user).await;
    let res = change_login(
        &app,
        &session,
        " Zoe@Muller.example ",
        "zoe@muller.example",
        PASSWORD,
    )
    .await;
    assert_eq!(res.status(), 202);
    let body: serde_json::Value = res.json().await.unwrap();
    assert!(body["message"].is_string());

    // The link goes to the new address, in the account's language.
    let text = app
        .wait_for_mail_containing("zoe@muller.example", "/confirm-login-email?token=")
        .await;
    assert!(
        text.contains("Hallo Zoë") && text.contains("zoe@muller.example"),
        "{text}"
    );
    let token = link_token(&text, "/confirm-login-email");
    // Nothing changes until it is followed.
    assert_eq!(me(&app, &session).await["email"], "zoe@example.ch");
    assert_eq!(login_status(&app, "zoe@example.ch", PASSWORD).await, 200);

    let res = app
        .post_json("/v1/users/confirm-login-email", json!({"token": token}))
        .await;
    assert_eq!(res.status(), 204);
    problem(
        app.post_json("/v1/users/confirm-login-email", json!({"token": token}))
            .await,
        400,
        "invalid_token",
    )
    .await;

    let me = me(&app, &session).await;
    assert_eq!(me["email"], "zoe@muller.example", "the session goes on");
    assert_eq!(me["email_verified"], true);
    // The old address is told, in German, where the login went.
    let told = app
        .wait_for_mail_containing("zoe@example.ch", "zoe@muller.example")
        .await;
    assert!(
        told.contains("Hallo Zoë") && told.contains("Anmeldeadresse"),
        "{told}"
    );
    // The old address no longer signs in; the new one does.
    assert_eq!(login_status(&app, "zoe@example.ch", PASSWORD).await, 401);
    assert_eq!(
        login_status(&app, "zoe@muller.example", PASSWORD).await,
        200
    );

    let actions = app.activities_of(&user.id).await;
    assert_eq!(
        count(&actions, "login_email.change_requested"),
        1,
        "{actions:?}"
    );
    assert_eq!(count(&actions, "login_email.changed"), 1, "{actions:?}");
}

#[tokio::test]
async fn r4_a_login_taken_in_the_meantime_is_refused_at_confirmation() {
    let app = TestApp::spawn().await;
    let (user, session) = app.signed_in("zoe@example.ch").await;
    let res = change_login(
        &app,
        &session,
        "wanted@example.ch",
        "wanted@example.ch",
        PASSWORD,
    )
    .await;
    assert_eq!(res.status(), 202);
    let token = link_token(
        &app.wait_for_mail_containing("wanted@example.ch", "/confirm-login-email?token=")
            .await,
        "/confirm-login-email",
    );
    app.create_user("wanted@example.ch").await;
    problem(
        app.post_json("/v1/users/confirm-login-email", json!({"token": token}))
            .await,
        409,
        "email_taken",
    )
    .await;
    assert_eq!(me(&app, &session).await["email"], "zoe@example.ch");
    let actions = app.activities_of(&user.id).await;
    assert_eq!(count(&actions, "login_email.changed"), 0, "{actions:?}");
}

#[tokio::test]
async fn r6_changing_the_recovery_address_needs_a_recent_authentication() {
    let app = TestApp::spawn().await;
    let (user, session) = app.signed_in("zoe@example.ch").await;
    app.make_session_not_recent(&session).await;
    problem(
        set_recovery(&app, &session.access_token, "zoe.backup@example.org").await,
        403,
        "reauthentication_required",
    )
    .await;
    let token = app.personal_token(&user.id).await;
    problem(
        set_recovery(&app, &token, "zoe.backup@example.org").await,
        403,
        "reauthentication_required",
    )
    .await;
    assert!(texts_to(&app, "zoe.backup@example.org").is_empty());
    assert_eq!(
        me(&app, &session).await["pending_recovery_email"],
        json!(null)
    );

    // Signed in again just now: allowed.
    let fresh = app.login(&user).await;
    let res = set_recovery(&app, &fresh.access_token, "zoe.backup@example.org").await;
    assert_eq!(res.status(), 202);
}

#[tokio::test]
async fn r6_the_recovery_address_must_differ_from_the_login() {
    let app = TestApp::spawn().await;
    let (user, session) = app.signed_in("zoe@example.ch").await;
    let before = app.activities_of(&user.id).await.len();
    for (address, code) in [
        (" ZOE@example.ch", "same_as_login_email"),
        ("zoe@", "invalid_email"),
    ] {
        let body = problem(
            set_recovery(&app, &session.access_token, address).await,
            422,
            "validation_failed",
        )
        .await;
        assert_eq!(
            field_errors(&body),
            [("/email".to_string(), code.to_string())]
        );
    }
    assert_eq!(app.activities_of(&user.id).await.len(), before);
}

#[tokio::test]
async fn r6_the_recovery_address_is_confirmed_through_its_link() {
    let app = TestApp::spawn().await;
    let user = app.create_user_in("zoe@example.ch", "fr").await;
    let session = app.login(&user).await;
    let res = set_recovery(&app, &session.access_token, "Zoe.Backup@example.org").await;
    assert_eq!(res.status(), 202);
    let me_now = me(&app, &session).await;
    assert_eq!(me_now["pending_recovery_email"], "zoe.backup@example.org");
    assert_eq!(me_now["recovery_email"], json!(null));

    let text = app
        .wait_for_mail_containing("zoe.backup@example.org", "/confirm-recovery-email?token=")
        .await;
    assert!(
        text.contains("Bonjour Zoë") && text.contains("adresse de secours"),
        "{text}"
    );
    assert!(text.contains("zoe@example.ch"), "names the account: {text}");
    let token = link_token(&text, "/confirm-recovery-email");
    // No Authorization needed: the token is the proof.
    let res = app
        .post_json("/v1/me/recovery-email/confirm", json!({"token": token}))
        .await;
    assert_eq!(res.status(), 204);
    problem(
        app.post_json("/v1/me/recovery-email/confirm", json!({"token": token}))
            .await,
        400,
        "invalid_token",
    )
    .await;
    let me_now = me(&app, &session).await;
    assert_eq!(me_now["recovery_email"], "zoe.backup@example.org");
    assert_eq!(me_now["recovery_email_verified"], true);
    assert_eq!(me_now["pending_recovery_email"], json!(null));
    // The login address is told, in French.
    let told = app
        .wait_for_mail_containing("zoe@example.ch", "zoe.backup@example.org")
        .await;
    assert!(told.contains("désormais"), "{told}");

    let actions = app.activities_of(&user.id).await;
    assert_eq!(
        count(&actions, "recovery_email.change_requested"),
        1,
        "{actions:?}"
    );
    assert_eq!(count(&actions, "recovery_email.changed"), 1, "{actions:?}");

    // Setting the same address again: nothing to do.
    let body = problem(
        set_recovery(&app, &session.access_token, "zoe.backup@example.org").await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(
        field_errors(&body),
        [("/email".to_string(), "same_as_current".to_string())]
    );
}

#[tokio::test]
async fn r6_a_resent_link_replaces_the_first() {
    let app = TestApp::spawn().await;
    let (user, session) = app.signed_in("zoe@example.ch").await;
    let resend = || {
        send(
            &app,
            Method::POST,
            "/v1/me/recovery-email/resend",
            &session,
            None,
        )
    };
    problem(resend().await, 409, "no_pending_recovery_email").await;

    set_recovery(&app, &session.access_token, "zoe.backup@example.org").await;
    let first = link_token(
        &app.wait_for_mail_containing("zoe.backup@example.org", "/confirm-recovery-email?token=")
            .await,
        "/confirm-recovery-email",
    );
    let res = resend().await;
    assert_eq!(res.status(), 202);
    let texts = loop {
        let texts = texts_to(&app, "zoe.backup@example.org");
        if texts.len() == 2 {
            break texts;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    };
    let second = texts
        .iter()
        .map(|t| link_token(t, "/confirm-recovery-email"))
        .find(|t| *t != first)
        .expect("a second link");

    problem(
        app.post_json("/v1/me/recovery-email/confirm", json!({"token": first}))
            .await,
        400,
        "invalid_token",
    )
    .await;
    let res = app
        .post_json("/v1/me/recovery-email/confirm", json!({"token": second}))
        .await;
    assert_eq!(res.status(), 204);
    assert_eq!(
        me(&app, &session).await["recovery_email"],
        "zoe.backup@example.org"
    );
    let actions = app.activities_of(&user.id).await;
    assert_eq!(
        count(&actions, "recovery_email.confirmation_resent"),
        1,
        "{actions:?}"
    );
}

#[tokio::test]
async fn r6_a_pending_request_can_be_withdrawn() {
    let app = TestApp::spawn().await;
    let (user, session) = app.signed_in("zoe@example.ch").await;
    confirm_recovery(&app, &session, "first@example.org").await;
    set_recovery(&app, &session.access_token, "second@example.org").await;
    let token = link_token(
        &app.wait_for_mail_containing("second@example.org", "/confirm-recovery-email?token=")
            .await,
        "/confirm-recovery-email",
    );
    let withdraw = || {
        send(
            &app,
            Method::DELETE,
            "/v1/me/recovery-email/pending",
            &session,
            None,
        )
    };
    let res = withdraw().await;
    assert_eq!(res.status(), 204);
    problem(
        app.post_json("/v1/me/recovery-email/confirm", json!({"token": token}))
            .await,
        400,
        "invalid_token",
    )
    .await;
    let me_now = me(&app, &session).await;
    assert_eq!(me_now["pending_recovery_email"], json!(null));
    assert_eq!(
        me_now["recovery_email"], "first@example.org",
        "the confirmed address stays"
    );
    problem(withdraw().await, 404, "not_found").await;
    problem(
        send(
            &app,
            Method::POST,
            "/v1/me/recovery-email/resend",
            &session,
            None,
        )
        .await,
        409,
        "no_pending_recovery_email",
    )
    .await;
    let actions = app.activities_of(&user.id).await;
    assert_eq!(
        count(&actions, "recovery_email.change_withdrawn"),
        1,
        "{actions:?}"
    );
    // Both routes need a caller.
    problem(
        app.client
            .delete(app.url("/v1/me/recovery-email/pending"))
            .send()
            .await
            .unwrap(),
        401,
        "unauthenticated",
    )
    .await;
}

#[tokio::test]
async fn r6_a_pending_recovery_address_that_became_the_login_is_refused() {
    let app = TestApp::spawn().await;
    let (_, session) = app.signed_in("zoe@example.ch").await;
    set_recovery(&app, &session.access_token, "other@example.org").await;
    let recovery_token = link_token(
        &app.wait_for_mail_containing("other@example.org", "/confirm-recovery-email?token=")
            .await,
        "/confirm-recovery-email",
    );
    // The same address becomes the login meanwhile.
    let res = change_login(
        &app,
        &session,
        "other@example.org",
        "other@example.org",
        PASSWORD,
    )
    .await;
    assert_eq!(res.status(), 202);
    let login_token = link_token(
        &app.wait_for_mail_containing("other@example.org", "/confirm-login-email?token=")
            .await,
        "/confirm-login-email",
    );
    let res = app
        .post_json(
            "/v1/users/confirm-login-email",
            json!({"token": login_token}),
        )
        .await;
    assert_eq!(res.status(), 204);
    problem(
        app.post_json(
            "/v1/me/recovery-email/confirm",
            json!({"token": recovery_token}),
        )
        .await,
        409,
        "same_as_login_email",
    )
    .await;
    let me_now = me(&app, &session).await;
    assert_eq!(me_now["email"], "other@example.org");
    assert_eq!(me_now["recovery_email"], json!(null));
    assert_eq!(me_status(&app, &session).await, 200);
}
