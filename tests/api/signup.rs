//! Sign-up and email verification (R1, R7).

use serde_json::json;

use crate::helpers::{PASSWORD, TestApp, link_token, mail_text, ok, problem};

/// What a sign-up (or a resend) answers, whatever became of the address.
const ACCEPTED: &str = "If the address can be used, a mail is on its way.";

/// Expects the 202 of a sign-up or resend, and its one field.
async fn accepted(res: reqwest::Response) {
    let body = ok(res, 202).await;
    assert_eq!(body, json!({ "message": ACCEPTED }));
}

fn signup(email: &str, language: &str) -> serde_json::Value {
    json!({"email": email, "password": PASSWORD, "first_name": "Zoë", "last_name": "Müller", "language": language, "timezone": "Europe/Zurich"})
}

#[tokio::test]
async fn r1_signup_needs_a_verified_email_before_login() {
    let app = TestApp::spawn().await;
    let res = app
        .post_json("/v1/users", signup("Zoe@Example.ch", "fr"))
        .await;
    accepted(res).await;

    // The right password is refused until the address is confirmed; a wrong one says nothing more.
    let res = app
        .post_json(
            "/v1/auth/login",
            json!({"email": "zoe@example.ch", "password": PASSWORD}),
        )
        .await;
    problem(res, 403, "email_not_verified").await;
    let res = app
        .post_json(
            "/v1/auth/login",
            json!({"email": "zoe@example.ch", "password": "wrong password here"}),
        )
        .await;
    problem(res, 401, "invalid_credentials").await;

    // The mail is in the account's language, with a link to the front end.
    let text = app
        .wait_for_mail_containing("zoe@example.ch", "/verify-email?token=")
        .await;
    assert!(text.contains("Bonjour Zoë"), "{text}");
    assert!(
        text.contains("https://app.leman.test/verify-email?token="),
        "{text}"
    );
    let token = link_token(&text, "/verify-email");

    let res = app
        .post_json("/v1/users/verify-email", json!({"token": token}))
        .await;
    assert_eq!(res.status(), 204);
    // Single use.
    let res = app
        .post_json("/v1/users/verify-email", json!({"token": token}))
        .await;
    problem(res, 400, "invalid_token").await;

    let res = app
        .post_json(
            "/v1/auth/login",
            json!({"email": "ZOE@example.ch ", "password": PASSWORD}),
        )
        .await;
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn signup_and_resend_do_not_reveal_whether_an_address_has_an_account() {
    let app = TestApp::spawn().await;
    let existing = app.create_user_in("taken@example.ch", "de").await;
    let first = app
        .post_json("/v1/users", signup("taken@example.ch", "en"))
        .await;
    let second = app
        .post_json("/v1/users", signup("free@example.ch", "en"))
        .await;
    assert_eq!(
        (first.status().as_u16(), second.status().as_u16()),
        (202, 202)
    );
    assert_eq!(first.text().await.unwrap(), second.text().await.unwrap());
    // The owner of the existing account is told, in their language; their account is unchanged.
    let text = mail_text(&app.wait_for_mail(&existing.email).await);
    assert!(text.contains("Hallo Zoë"), "{text}");
    app.login(&existing).await;

    let a = app
        .post_json(
            "/v1/users/verify-email/resend",
            json!({"email": "free@example.ch"}),
        )
        .await;
    let b = app
        .post_json(
            "/v1/users/verify-email/resend",
            json!({"email": "nobody@example.ch"}),
        )
        .await;
    let c = app
        .post_json(
            "/v1/users/verify-email/resend",
            json!({"email": "taken@example.ch"}),
        )
        .await;
    assert_eq!(
        (
            a.status().as_u16(),
            b.status().as_u16(),
            c.status().as_u16()
        ),
        (202, 202, 202)
    );
    let (a, b, c) = (
        a.text().await.unwrap(),
        b.text().await.unwrap(),
        c.text().await.unwrap(),
    );
    assert!(a == b && b == c);
}

#[tokio::test]
async fn a_resent_link_replaces_the_previous_one() {
    let app = TestApp::spawn().await;
    accepted(
        app.post_json("/v1/users", signup("late@example.ch", "en"))
            .await,
    )
    .await;
    let first = link_token(
        &mail_text(&app.wait_for_mail("late@example.ch").await),
        "/verify-email",
    );
    accepted(
        app.post_json(
            "/v1/users/verify-email/resend",
            json!({"email": "late@example.ch"}),
        )
        .await,
    )
    .await;
    let mails = app.wait_for_mails("late@example.ch", 2).await;
    let tokens: Vec<String> = mails
        .iter()
        .map(|m| link_token(&mail_text(m), "/verify-email"))
        .collect();
    let second = tokens.into_iter().find(|t| *t != first).unwrap();
    problem(
        app.post_json("/v1/users/verify-email", json!({"token": first}))
            .await,
        400,
        "invalid_token",
    )
    .await;
    assert_eq!(
        app.post_json("/v1/users/verify-email", json!({"token": second}))
            .await
            .status(),
        204
    );
}

#[tokio::test]
async fn signup_reports_every_invalid_field_at_once() {
    let app = TestApp::spawn().await;
    let res = app
        .post_json(
            "/v1/users",
            json!({"email": "not-an-address", "password": "password1", "first_name": " ", "last_name": "M", "language": "pt", "timezone": "Mars/Base"}),
        )
        .await;
    let body = problem(res, 422, "validation_failed").await;
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "/email",
            "/first_name",
            "/language",
            "/timezone",
            "/password"
        ]
    );
    let codes: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"password_too_weak"), "{codes:?}");

    let res = app.post_json("/v1/users", json!({"email": "a@example.ch", "password": "x".repeat(129), "first_name": "A", "last_name": "B"})).await;
    let body = problem(res, 422, "validation_failed").await;
    assert_eq!(body["errors"][0]["code"], "password_too_long");
    // Nothing was written.
    let res = app
        .post_json(
            "/v1/auth/login",
            json!({"email": "a@example.ch", "password": "x".repeat(129)}),
        )
        .await;
    problem(res, 401, "invalid_credentials").await;
}

#[tokio::test]
async fn signup_writes_one_activity_record() {
    let app = TestApp::spawn().await;
    accepted(
        app.post_json("/v1/users", signup("new@example.ch", "it"))
            .await,
    )
    .await;
    // Read directly: an account not yet verified has no view in the API, and verifying and
    // signing in would add records of their own.
    let id: String = app
        .with_conn(|c| {
            use diesel::prelude::*;
            use leman::db::schema::users;
            users::table.select(users::id).first(c).unwrap()
        })
        .await;
    assert_eq!(app.activities_of(&id).await, ["user.signed_up"]);
}
