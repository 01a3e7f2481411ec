//! Deleting one's account (R9): a recent authentication with the password, then every access
//! ends, personal data is erased, and the activity record keeps only a pseudonym.

use diesel::prelude::*;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{
    PASSWORD, TestApp, TestSession, TestUser, create_token, link_token, mail_text, problem, send,
    send_with,
};

#[tokio::test]
async fn r9_deleting_the_account_needs_a_recent_authentication() {
    let app = TestApp::spawn().await;
    let (user, session) = app.signed_in("zoe@example.ch").await;
    app.make_session_not_recent(&session).await;
    let res = send(&app, Method::DELETE, "/v1/me", &session, None).await;
    problem(res, 403, "reauthentication_required").await;
    // Nothing happened.
    let res = send(&app, Method::GET, "/v1/me", &session, None).await;
    assert_eq!(res.status(), 200);

    // A token never deletes an account, whatever its scopes.
    let fresh = app.login(&user).await;
    let (_, secret) = create_token(&app, &fresh, &["account:write"]).await;
    let res = send(&app, Method::DELETE, "/v1/me", &secret, None).await;
    problem(res, 403, "reauthentication_required").await;
    assert!(
        !app.activities_of(&user.id)
            .await
            .contains(&"account.deleted".to_string())
    );

    // Authenticated with the password just now: allowed.
    let res = send(&app, Method::DELETE, "/v1/me", &fresh, None).await;
    assert_eq!(res.status(), 204);
}

/// Zoë with two sessions, a token, newsletter subscriptions and leftovers of other features,
/// who then deletes her account from the second session; returns (user, first session,
/// second session, token secret).
async fn deleted_account(app: &TestApp) -> (TestUser, TestSession, TestSession, String) {
    let (user, first) = app.signed_in("zoe@example.ch").await;
    let second = app.login(&user).await;
    let (_, secret) = create_token(app, &second, &["account:read"]).await;
    let put = send_with(
        app,
        Method::PUT,
        "/v1/me/newsletter-subscriptions",
        &first,
        Some(json!({"topics": ["offers", "events"]})),
        &[(
            "User-Agent",
            "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0",
        )],
    )
    .await;
    assert_eq!(put.status(), 200);
    // Leftovers of other features: a pending mail link, 2FA recovery codes, a recovery address.
    let uid = user.id.clone();
    app.with_conn(move |c| {
        use leman::db::schema::{recovery_codes as rc, users};
        use leman::models::one_time_tokens;
        one_time_tokens::issue(
            c,
            &uid,
            one_time_tokens::CONFIRM_RECOVERY_EMAIL,
            chrono::Duration::hours(1),
            Some("zoe.private@example.org"),
        )
        .unwrap();
        diesel::insert_into(rc::table)
            .values((
                rc::id.eq(leman::db::new_id("rec")),
                rc::user_id.eq(&uid),
                rc::code_hash.eq("hash"),
                rc::created_at.eq(leman::db::now()),
            ))
            .execute(c)
            .unwrap();
        diesel::update(users::table.find(&uid))
            .set((
                users::recovery_email.eq(Some("zoe.private@example.org")),
                users::totp_secret.eq(Some("JBSWY3DPEHPK3PXP")),
                users::totp_enabled_at.eq(Some(leman::db::now())),
            ))
            .execute(c)
            .unwrap();
    })
    .await;

    let res = send_with(
        app,
        Method::DELETE,
        "/v1/me",
        &second,
        None,
        &[(
            "User-Agent",
            "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0",
        )],
    )
    .await;
    assert_eq!(res.status(), 204);
    (user, first, second, secret)
}

#[tokio::test]
async fn r9_deletion_ends_all_access_and_erases_personal_data_every_access_ends() {
    let app = TestApp::spawn().await;
    let (_, first, second, secret) = deleted_account(&app).await;
    // Every session and token is dead at once.
    for token in [&first.access_token, &second.access_token, &secret] {
        let res = send(&app, Method::GET, "/v1/me", token, None).await;
        problem(res, 401, "unauthenticated").await;
    }
    for refresh in [&first.refresh_token, &second.refresh_token] {
        let res = app
            .post_json("/v1/auth/refresh", json!({"refresh_token": refresh}))
            .await;
        problem(res, 401, "unauthenticated").await;
    }
    let res = app
        .post_json(
            "/v1/auth/login",
            json!({"email": "zoe@example.ch", "password": PASSWORD}),
        )
        .await;
    problem(res, 401, "invalid_credentials").await;
}

#[tokio::test]
async fn r9_deletion_ends_all_access_and_erases_personal_data_from_the_account_and_its_satellites()
{
    let app = TestApp::spawn().await;
    let (user, ..) = deleted_account(&app).await;
    // Personal data is gone from the account row and its satellites.
    let uid = user.id.clone();
    let (row, leftovers) = app
        .with_conn(move |c| {
            use leman::db::schema::{
                api_tokens as t, newsletter_subscriptions as n, one_time_tokens as o,
                recovery_codes as rc, sessions as s, users as u,
            };
            let row = u::table
                .find(&uid)
                .select((
                    u::email,
                    u::first_name,
                    u::last_name,
                    u::password_hash,
                    u::recovery_email,
                    u::pending_recovery_email,
                    u::totp_secret,
                    u::totp_enabled_at.is_not_null(),
                    u::deleted_at.is_not_null(),
                ))
                .first::<(
                    String,
                    String,
                    String,
                    String,
                    Option<String>,
                    Option<String>,
                    Option<String>,
                    bool,
                    bool,
                )>(c)
                .unwrap();
            let leftovers: [i64; 5] = [
                n::table
                    .filter(n::user_id.eq(&uid))
                    .count()
                    .get_result(c)
                    .unwrap(),
                o::table
                    .filter(o::user_id.eq(&uid))
                    .filter(o::used_at.is_null().or(o::new_email.is_not_null()))
                    .count()
                    .get_result(c)
                    .unwrap(),
                rc::table
                    .filter(rc::user_id.eq(&uid))
                    .count()
                    .get_result(c)
                    .unwrap(),
                t::table
                    .filter(t::user_id.eq(&uid))
                    .filter(t::revoked_at.is_null())
                    .count()
                    .get_result(c)
                    .unwrap(),
                s::table
                    .filter(s::user_id.eq(&uid))
                    .filter(
                        s::ended_at
                            .is_null()
                            .or(s::ip.is_not_null())
                            .or(s::user_agent.is_not_null()),
                    )
                    .count()
                    .get_result(c)
                    .unwrap(),
            ];
            (row, leftovers)
        })
        .await;
    assert_eq!(row.0, format!("deleted-{}@invalid", user.id));
    assert!(!row.0.contains("zoe"));
    assert_ne!(row.1, "Zoë");
    assert_eq!(row.2, "");
    assert_eq!(row.3, "");
    assert_eq!((row.4, row.5, row.6, row.7), (None, None, None, false));
    assert!(row.8, "deleted_at is set");
    assert_eq!(
        leftovers,
        [0, 0, 0, 0, 0],
        "subscriptions, mail links, recovery codes, live tokens, sessions"
    );
}

#[tokio::test]
async fn r9_deletion_ends_all_access_and_erases_personal_data_the_record_keeps_a_pseudonymous_history()
 {
    let app = TestApp::spawn().await;
    let (user, ..) = deleted_account(&app).await;
    // The activity record keeps the history under a pseudonym, without IPs or user agents.
    assert!(app.activities_of(&user.id).await.is_empty());
    let rows = app
        .with_conn(|c| {
            use leman::db::schema::activities as a;
            a::table
                .select((
                    a::actor_user_id,
                    a::subject_user_id,
                    a::action,
                    a::ip,
                    a::user_agent,
                    a::actor_name,
                    a::details,
                ))
                .load::<(
                    Option<String>,
                    Option<String>,
                    String,
                    Option<String>,
                    Option<String>,
                    Option<String>,
                    String,
                )>(c)
                .unwrap()
        })
        .await;
    let pseudonym = rows[0].0.clone().unwrap();
    assert!(pseudonym.starts_with("anon_"), "{pseudonym}");
    assert!(!pseudonym.contains(&user.id[4..]));
    for (actor, subject, action, ip, user_agent, name, details) in &rows {
        assert_eq!(actor.as_deref(), Some(pseudonym.as_str()), "{action}");
        assert!(subject.is_none() || subject.as_deref() == Some(pseudonym.as_str()));
        assert!(
            ip.is_none() && user_agent.is_none() && name.is_none(),
            "{action}"
        );
        assert!(
            !details.contains(&user.id) && !details.contains("zoe"),
            "{details}"
        );
    }
    let deleted: Vec<_> = rows.iter().filter(|r| r.2 == "account.deleted").collect();
    assert_eq!(deleted.len(), 1);
    let details: Value = serde_json::from_str(&deleted[0].6).unwrap();
    assert_eq!(details["sessions_ended"], 2);
    assert_eq!(details["tokens_revoked"], 1);
    assert!(rows.iter().any(|r| r.2 == "user.signed_up"));
    assert!(rows.iter().any(|r| r.2 == "newsletters.updated"));
}

#[tokio::test]
async fn r9_the_address_can_sign_up_again() {
    let app = TestApp::spawn().await;
    let (user, session) = app.signed_in("zoe@example.ch").await;
    let res = send(&app, Method::DELETE, "/v1/me", &session, None).await;
    assert_eq!(res.status(), 204);
    // Gone means gone: the same request again is no longer authenticated.
    let res = send(&app, Method::DELETE, "/v1/me", &session, None).await;
    problem(res, 401, "unauthenticated").await;

    let res = app
        .post_json(
            "/v1/users",
            json!({"email": "zoe@example.ch", "password": PASSWORD, "first_name": "Zoé", "last_name": "Neuve", "language": "fr"}),
        )
        .await;
    assert_eq!(res.status(), 202);
    let text = mail_text(&app.wait_for_mail("zoe@example.ch").await);
    assert!(
        text.contains("Bonjour Zoé"),
        "a fresh account, not the old one: {text}"
    );
    let token = link_token(&text, "/verify-email");
    let res = app
        .post_json("/v1/users/verify-email", json!({"token": token}))
        .await;
    assert_eq!(res.status(), 204);
    let res = app
        .post_json(
            "/v1/auth/login",
            json!({"email": "zoe@example.ch", "password": PASSWORD}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let access = res.json::<Value>().await.unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let me: Value = send(&app, Method::GET, "/v1/me", &access, None)
        .await
        .json()
        .await
        .unwrap();
    assert_ne!(me["id"], user.id.as_str());
    assert_eq!(me["last_name"], "Neuve");
}

#[tokio::test]
async fn deleting_takes_no_body_and_needs_credentials() {
    let app = TestApp::spawn().await;
    let res = app.client.delete(app.url("/v1/me")).send().await.unwrap();
    problem(res, 401, "unauthenticated").await;
}

#[tokio::test]
async fn r9_deletion_erases_the_mail_sent_or_queued_to_the_account() {
    use leman::db::schema::mails;
    let app = TestApp::builder().without_jobs().spawn().await;
    let (user, session) = app.signed_in("leaving@example.ch").await;
    // A failure alert is queued (no job runner: it stays in the outbox).
    app.post_json(
        "/v1/auth/login",
        json!({"email": user.email, "password": "not the password"}),
    )
    .await;
    let email = user.email.clone();
    let queued: i64 = app
        .with_conn(move |c| {
            mails::table
                .filter(mails::to_address.eq(email))
                .count()
                .get_result(c)
                .unwrap()
        })
        .await;
    assert_eq!(queued, 1);
    let res = send(&app, Method::DELETE, "/v1/me", &session, None).await;
    assert_eq!(res.status(), 204);
    let email = user.email.clone();
    let left: i64 = app
        .with_conn(move |c| {
            mails::table
                .filter(mails::to_address.eq(email))
                .count()
                .get_result(c)
                .unwrap()
        })
        .await;
    assert_eq!(left, 0);
}

#[tokio::test]
async fn r9_deletion_forgets_the_accounts_stored_idempotent_answers() {
    use leman::db::schema::idempotency_keys as keys;
    let app = TestApp::spawn().await;
    let (user, session) = app.signed_in("keys@example.ch").await;
    let res = send(
        &app,
        Method::PUT,
        "/v1/me/recovery-email",
        &session,
        Some(json!({"email": "backup@example.ch"})),
    )
    .await;
    assert_eq!(res.status(), 202);
    let res = send_with(
        &app,
        Method::POST,
        "/v1/me/recovery-email/resend",
        &session,
        None,
        &[("Idempotency-Key", "resend-1")],
    )
    .await;
    assert_eq!(res.status(), 202);
    let caller = format!("usr:{}", user.id);
    let stored = {
        let caller = caller.clone();
        app.with_conn(move |c| {
            keys::table
                .filter(keys::caller.eq(caller))
                .count()
                .get_result::<i64>(c)
                .unwrap()
        })
        .await
    };
    assert_eq!(stored, 1, "the answer was kept for replay");
    assert_eq!(
        send(&app, Method::DELETE, "/v1/me", &session, None)
            .await
            .status(),
        204
    );
    let left = app
        .with_conn(move |c| {
            keys::table
                .filter(keys::caller.eq(caller))
                .count()
                .get_result::<i64>(c)
                .unwrap()
        })
        .await;
    assert_eq!(left, 0);
}
