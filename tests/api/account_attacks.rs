//! Issue 9, findings 1, 2, 7 and 11: account pre-hijack through sign-up, what a password reset
//! leaves to an intruder, mail floods a stranger can cause, and a reset request that tells by its
//! time whether an address has an account.

use std::time::Duration;

use diesel::prelude::*;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{
    PASSWORD, TestApp, TestUser, create_named_token, link_token, login_status, me_status,
    my_activity_details, problem, send,
};

const ATTACKER_PASSWORD: &str = "mallory chose this one herself";
const VICTIM: &str = "zoe@example.ch";

fn signup(first_name: &str, password: &str) -> Value {
    json!({"email": VICTIM, "password": password, "first_name": first_name, "last_name": "Müller", "language": "en"})
}

/// The verification mail to `to` that greets `name`, once it is delivered.
async fn verification_for(app: &TestApp, to: &str, name: &str) -> String {
    let mail = app
        .wait_for_mail_containing(to, &format!("Hello {name},"))
        .await;
    link_token(&mail, "/verify-email")
}

#[tokio::test]
async fn f1_a_sign_up_on_an_unverified_address_verifies_only_its_own_attempt() {
    let app = TestApp::spawn().await;
    // Mallory signs up first with Zoë's address; Zoë, who got a mail she did not ask for, signs
    // up with her own password.
    let res = app
        .post_json("/v1/users", signup("Mallory", ATTACKER_PASSWORD))
        .await;
    assert_eq!(res.status(), 202);
    let mallorys_link = verification_for(&app, VICTIM, "Mallory").await;
    let res = app.post_json("/v1/users", signup("Zoë", PASSWORD)).await;
    assert_eq!(res.status(), 202);
    // Zoë's mail greets Zoë, and its link verifies her attempt.
    let zoes_link = verification_for(&app, VICTIM, "Zoë").await;
    assert_eq!(
        app.post_json(
            "/v1/users/verify-email",
            json!({"token": zoes_link, "password": PASSWORD})
        )
        .await
        .status(),
        204
    );
    assert_eq!(login_status(&app, VICTIM, PASSWORD).await, 200);
    assert_eq!(login_status(&app, VICTIM, ATTACKER_PASSWORD).await, 401);
    // Mallory's link died with her attempt.
    problem(
        app.post_json(
            "/v1/users/verify-email",
            json!({"token": mallorys_link, "password": PASSWORD}),
        )
        .await,
        400,
        "invalid_token",
    )
    .await;
    let me: Value = {
        let session = app
            .post_json(
                "/v1/auth/login",
                json!({"email": VICTIM, "password": PASSWORD}),
            )
            .await
            .json::<Value>()
            .await
            .unwrap();
        send(
            &app,
            Method::GET,
            "/v1/me",
            session["access_token"].as_str().unwrap(),
            None,
        )
        .await
        .json()
        .await
        .unwrap()
    };
    assert_eq!(me["first_name"], "Zoë", "{me}");
}

#[tokio::test]
async fn f1_nothing_an_earlier_attempt_held_survives_into_the_account_verified_later() {
    let app = TestApp::builder()
        .env("LEMAN_AUTH_RATE_PER_ACCOUNT", "1000")
        .env("LEMAN_AUTH_RATE_PER_IP", "1000")
        .spawn()
        .await;
    app.post_json("/v1/users", signup("Mallory", ATTACKER_PASSWORD))
        .await;
    // An account never verified cannot sign in: it can make no session, hence no token, second
    // factor or recovery address.
    problem(
        app.post_json(
            "/v1/auth/login",
            json!({"email": VICTIM, "password": ATTACKER_PASSWORD}),
        )
        .await,
        403,
        "email_not_verified",
    )
    .await;
    // Whatever it might hold all the same (put there directly): a lock from failed sign-ins, a
    // second factor, a recovery address, a token.
    let id: String = app
        .with_conn(|c| {
            use leman::db::schema::users;
            users::table
                .filter(users::email.eq(VICTIM))
                .select(users::id)
                .first(c)
                .unwrap()
        })
        .await;
    let token = app.personal_token(&id).await;
    let uid = id.clone();
    app.with_conn(move |c| {
        use leman::db::schema::users;
        let now = leman::db::now();
        diesel::update(users::table.find(uid))
            .set((
                users::locked_at.eq(Some(now)),
                users::failed_logins.eq(10),
                users::totp_secret.eq(Some("JBSWY3DPEHPK3PXP")),
                users::totp_enabled_at.eq(Some(now)),
                users::recovery_email.eq(Some("mallory@example.org")),
                users::recovery_email_verified_at.eq(Some(now)),
            ))
            .execute(c)
            .unwrap();
    })
    .await;

    app.post_json("/v1/users", signup("Zoë", PASSWORD)).await;
    let link = verification_for(&app, VICTIM, "Zoë").await;
    assert_eq!(
        app.post_json(
            "/v1/users/verify-email",
            json!({"token": link, "password": PASSWORD})
        )
        .await
        .status(),
        204
    );
    // Not locked, no second factor asked: a session at once.
    let res = app
        .post_json(
            "/v1/auth/login",
            json!({"email": VICTIM, "password": PASSWORD}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert!(body["access_token"].is_string(), "{body}");
    let me: Value = send(
        &app,
        Method::GET,
        "/v1/me",
        body["access_token"].as_str().unwrap(),
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(me["recovery_email"], Value::Null, "{me}");
    assert_eq!(me["two_factor_enabled"], false, "{me}");
    // The token made before is dead.
    assert_eq!(
        send(&app, Method::GET, "/v1/me", &token, None)
            .await
            .status(),
        401
    );
}

#[tokio::test]
async fn f2_a_reset_revokes_every_token_names_them_and_points_to_the_second_factor() {
    let app = TestApp::spawn().await;
    let (user, session) = app.signed_in(VICTIM).await;
    // An intruder who knew the password made a token of each kind, and turned on 2FA.
    let personal = create_named_token(
        &app,
        &session,
        "Intruder laptop",
        "personal",
        &["account:read"],
    )
    .await
    .1;
    let application = create_named_token(
        &app,
        &session,
        "Sync robot",
        "application",
        &["account:read"],
    )
    .await
    .1;
    let two_factor = app.enable_two_factor(&session).await;
    assert_eq!(me_status(&app, &personal).await, 200);

    app.post_json(
        "/v1/auth/password-reset/request",
        json!({"email": user.email}),
    )
    .await;
    let token = link_token(
        &app.wait_for_mail_containing(VICTIM, "/reset-password?token=")
            .await,
        "/reset-password",
    );
    let res = app
        .post_json(
            "/v1/auth/password-reset",
            json!({"token": token, "new_password": "a completely different passphrase"}),
        )
        .await;
    assert_eq!(res.status(), 204);
    assert_eq!(me_status(&app, &personal).await, 401);
    assert_eq!(me_status(&app, &application).await, 401);
    let mail = app
        .wait_for_mail_containing(VICTIM, "were revoked and no longer work")
        .await;
    assert!(mail.contains("Intruder laptop (lmn_"), "{mail}");
    assert!(mail.contains("Sync robot (lmn_"), "{mail}");
    assert!(
        mail.contains(&format!(
            "Sync robot ({}…)",
            application.chars().take(8).collect::<String>()
        )),
        "{mail}"
    );
    assert!(
        mail.contains("https://app.leman.test/settings/two-factor"),
        "{mail}"
    );
    assert!(
        mail.contains("Two-factor authentication stays on"),
        "{mail}"
    );
    // The second factor stays (the link proves only the mailbox): the next login asks for it.
    let res = app
        .post_json(
            "/v1/auth/login",
            json!({"email": VICTIM, "password": "a completely different passphrase"}),
        )
        .await;
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["mfa_required"], true, "{body}");
    // The owner, signed in with both factors, reads what the reset did.
    let owner = TestUser {
        password: "a completely different passphrase".to_string(),
        ..user.clone()
    };
    let owner = app.login_with_two_factor(&owner, &two_factor).await;
    let details = my_activity_details(&app, &owner, "password.reset").await;
    assert_eq!(details.len(), 1, "{details:?}");
    let revoked = &details[0];
    assert_eq!(revoked["tokens_revoked"], 2, "{revoked}");
}

#[tokio::test]
async fn f2_a_password_change_revokes_every_token_when_asked() {
    let app = TestApp::spawn().await;
    let (_, session) = app.signed_in(VICTIM).await;
    let token = create_named_token(
        &app,
        &session,
        "Intruder laptop",
        "personal",
        &["account:read"],
    )
    .await
    .1;

    // Without the option, tokens go on working, and the mail says so.
    let res = send(
        &app,
        Method::PUT,
        "/v1/me/password",
        &session,
        Some(json!({"current_password": PASSWORD, "new_password": "first new passphrase here"})),
    )
    .await;
    assert_eq!(res.status(), 204);
    assert_eq!(me_status(&app, &token).await, 200);
    app.wait_for_mail_containing(VICTIM, "tokens still work")
        .await;

    let res = send(&app, Method::PUT, "/v1/me/password", &session, Some(json!({"current_password": "first new passphrase here", "new_password": "second new passphrase here", "revoke_tokens": true}))).await;
    assert_eq!(res.status(), 204);
    assert_eq!(me_status(&app, &token).await, 401);
    // This session goes on.
    assert_eq!(me_status(&app, &session.access_token).await, 200);
    let mail = app
        .wait_for_mail_containing(VICTIM, "were revoked and no longer work")
        .await;
    assert!(mail.contains("Intruder laptop (lmn_"), "{mail}");
    assert!(
        mail.contains("https://app.leman.test/settings/two-factor"),
        "{mail}"
    );
}

/// Mails of `template` to `to` in the outbox, once the jobs had time to write them.
async fn outbox_count(app: &TestApp, to: &str, template: &str, at_least: i64) -> i64 {
    let count = || {
        let (to, template) = (to.to_string(), template.to_string());
        app.with_conn(move |c| {
            use leman::db::schema::mails;
            mails::table
                .filter(mails::to_address.eq(to))
                .filter(mails::template.eq(template))
                .count()
                .get_result::<i64>(c)
                .unwrap()
        })
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while count().await < at_least && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    // Time for anything more to arrive.
    tokio::time::sleep(Duration::from_millis(300)).await;
    count().await
}

fn unlimited() -> crate::helpers::TestAppBuilder {
    TestApp::builder()
        .env("LEMAN_AUTH_RATE_PER_ACCOUNT", "1000")
        .env("LEMAN_AUTH_RATE_PER_IP", "1000")
}

/// Posts `body` to `path` five times; every answer is the same 202.
async fn five_times(app: &TestApp, path: &str, body: Value) {
    let mut answers = vec![];
    for _ in 0..5 {
        let res = app.post_json(path, body.clone()).await;
        answers.push((res.status().as_u16(), res.text().await.unwrap()));
    }
    assert!(answers.iter().all(|a| *a == answers[0]), "{answers:?}");
    assert_eq!(answers[0].0, 202);
}

#[tokio::test]
async fn f7_sign_ups_and_resends_mail_one_address_at_most_three_times_an_hour() {
    let app = unlimited().spawn().await;
    // A verified address: sign-ups tell its owner, three times at most.
    let owner = app.create_user("owner@example.ch").await;
    five_times(
        &app,
        "/v1/users",
        json!({"email": owner.email, "password": PASSWORD, "first_name": "A", "last_name": "B"}),
    )
    .await;
    assert_eq!(
        outbox_count(&app, &owner.email, "signup_existing", 3).await,
        3
    );
    // An unverified address: sign-ups and resends share three verification mails.
    app.post_json("/v1/users", signup("Zoë", PASSWORD)).await;
    five_times(
        &app,
        "/v1/users/verify-email/resend",
        json!({"email": VICTIM}),
    )
    .await;
    assert_eq!(outbox_count(&app, VICTIM, "verify_email", 3).await, 3);
    // Past the limit a sign-up changes nothing either: the last link sent still verifies the
    // attempt it was sent for.
    app.post_json("/v1/users", signup("Mallory", ATTACKER_PASSWORD))
        .await;
    assert_eq!(outbox_count(&app, VICTIM, "verify_email", 3).await, 3);
    let newest = newest_mail(&app, VICTIM, "verify_email").await;
    let link = link_token(&newest, "/verify-email");
    assert_eq!(
        app.post_json(
            "/v1/users/verify-email",
            json!({"token": link, "password": PASSWORD})
        )
        .await
        .status(),
        204
    );
    assert_eq!(login_status(&app, VICTIM, PASSWORD).await, 200);
}

/// The text of the newest outbox mail of `template` to `to`.
async fn newest_mail(app: &TestApp, to: &str, template: &str) -> String {
    let (to, template) = (to.to_string(), template.to_string());
    app.with_conn(move |c| {
        use leman::db::schema::mails;
        mails::table
            .filter(mails::to_address.eq(to))
            .filter(mails::template.eq(template))
            .order((mails::created_at.desc(), mails::id.desc()))
            .select(mails::text_body)
            .first::<String>(c)
            .unwrap()
    })
    .await
}

#[tokio::test]
async fn f7_reset_and_unlock_requests_mail_one_address_at_most_three_times_an_hour() {
    let app = unlimited().spawn().await;
    let user = app.create_user(VICTIM).await;
    five_times(
        &app,
        "/v1/auth/password-reset/request",
        json!({"email": user.email}),
    )
    .await;
    assert_eq!(outbox_count(&app, VICTIM, "password_reset", 3).await, 3);

    app.set_lock_threshold(&user.id, 3).await;
    for _ in 0..3 {
        login_status(&app, VICTIM, "not the password at all").await;
    }
    assert_eq!(outbox_count(&app, VICTIM, "account_locked", 1).await, 1);
    five_times(
        &app,
        "/v1/auth/unlock/request",
        json!({"email": user.email}),
    )
    .await;
    assert_eq!(outbox_count(&app, VICTIM, "unlock_link", 3).await, 3);
}

#[tokio::test]
async fn f11_a_reset_request_only_queues_a_job_whether_the_address_is_known_or_not() {
    let app = TestApp::builder().without_jobs().spawn().await;
    let user = app.create_user(VICTIM).await;
    let mut answers = vec![];
    for email in [VICTIM, "nobody@example.ch"] {
        let res = app
            .post_json("/v1/auth/password-reset/request", json!({"email": email}))
            .await;
        let mut headers: Vec<(String, String)> = res
            .headers()
            .iter()
            .filter(|(name, _)| !["date", "x-request-id"].contains(&name.as_str()))
            .map(|(name, value)| (name.to_string(), value.to_str().unwrap().to_string()))
            .collect();
        headers.sort();
        answers.push((res.status().as_u16(), headers, res.text().await.unwrap()));
    }
    assert_eq!(answers[0], answers[1]);
    assert_eq!(answers[0].0, 202);
    // Each request wrote one job and nothing else: no link, no mail, no record yet.
    let id = user.id.clone();
    let (jobs, links, mails, records) = app
        .with_conn(move |c| {
            use leman::db::schema::{activities, jobs, mails, one_time_tokens};
            (
                jobs::table
                    .filter(jobs::kind.eq("request_password_reset"))
                    .count()
                    .get_result::<i64>(c)
                    .unwrap(),
                one_time_tokens::table
                    .filter(one_time_tokens::user_id.eq(&id))
                    .count()
                    .get_result::<i64>(c)
                    .unwrap(),
                mails::table.count().get_result::<i64>(c).unwrap(),
                activities::table
                    .filter(activities::action.eq("password.reset_requested"))
                    .count()
                    .get_result::<i64>(c)
                    .unwrap(),
            )
        })
        .await;
    assert_eq!((jobs, links, mails, records), (2, 0, 0, 0));
    // The jobs do the work: the known address gets its link, the unknown one nothing.
    let runner = app.services.runner();
    while runner.run_once().await.unwrap() {}
    let text = app
        .wait_for_mail_containing(VICTIM, "/reset-password?token=")
        .await;
    let token = link_token(&text, "/reset-password");
    assert_eq!(
        app.post_json(
            "/v1/auth/password-reset",
            json!({"token": token, "new_password": "a completely different passphrase"}),
        )
        .await
        .status(),
        204
    );
    assert!(
        app.mails()
            .iter()
            .all(|m| !m.contains("To: nobody@example.ch"))
    );
}

/// A sign-up replacing an unverified attempt and the verification of that attempt, at once:
/// both take the account's row lock before its links, so neither deadlocks (PostgreSQL) and the
/// account ends either verified with the first attempt or waiting with the second.
#[tokio::test]
async fn a_sign_up_racing_the_verification_of_the_earlier_attempt_never_fails() {
    let app = unlimited().spawn().await;
    for n in 0..10 {
        let email = format!("race{n}@example.ch");
        let body = |password: &str| json!({"email": email, "password": password, "first_name": "Zoë", "last_name": "Müller"});
        app.post_json("/v1/users", body(PASSWORD)).await;
        let link = link_token(
            &app.wait_for_mail_containing(&email, "/verify-email?token=")
                .await,
            "/verify-email",
        );
        let (verified, signed_up) = tokio::join!(
            app.post_json(
                "/v1/users/verify-email",
                json!({"token": link, "password": PASSWORD})
            ),
            app.post_json("/v1/users", body(ATTACKER_PASSWORD)),
        );
        assert_eq!(signed_up.status(), 202);
        let (first, second) = (
            login_status(&app, &email, PASSWORD).await,
            login_status(&app, &email, ATTACKER_PASSWORD).await,
        );
        match verified.status().as_u16() {
            204 => assert_eq!((first, second), (200, 401), "{n}"),
            400 => assert_eq!((first, second), (401, 403), "{n}"),
            other => panic!("verification answered {other}"),
        }
    }
}

/// The other order of finding 1: Zoë signs up, then Mallory signs up with Zoë's address before
/// Zoë clicks. The newest link (the only one that works) confirms Mallory's attempt; clicking it
/// must not verify an account whose password Mallory knows: the link needs the password of the
/// attempt it confirms.
#[tokio::test]
async fn f1_a_stranger_signing_up_after_the_owner_cannot_have_the_owners_click_verify_their_attempt()
 {
    let app = TestApp::spawn().await;
    assert_eq!(
        app.post_json("/v1/users", signup("Zoë", PASSWORD))
            .await
            .status(),
        202
    );
    let first = verification_for(&app, VICTIM, "Zoë").await;
    // Mallory gives Zoë's own name: the mail cannot tell Zoë it is not her attempt.
    let res = app
        .post_json("/v1/users", json!({"email": VICTIM, "password": ATTACKER_PASSWORD, "first_name": "Zoë", "last_name": "Müller", "language": "en"}))
        .await;
    assert_eq!(res.status(), 202);
    let links = |mails: Vec<String>| -> Vec<String> {
        mails
            .iter()
            .map(|m| link_token(&crate::helpers::mail_text(m), "/verify-email"))
            .collect()
    };
    let newest = links(app.wait_for_mails(VICTIM, 2).await)
        .into_iter()
        .find(|l| *l != first)
        .unwrap();
    // Zoë clicks the newest link as a client did before: after a second sign-up on the address
    // the token alone verifies nothing.
    let res = app
        .post_json("/v1/users/verify-email", json!({"token": newest}))
        .await;
    let body = problem(res, 422, "validation_failed").await;
    assert_eq!(body["errors"][0]["field"], "/password", "{body}");
    assert_eq!(body["errors"][0]["code"], "password_required", "{body}");
    // With her own password it is refused too, and nothing changes.
    let res = app
        .post_json(
            "/v1/users/verify-email",
            json!({"token": newest, "password": PASSWORD}),
        )
        .await;
    let body = problem(res, 422, "validation_failed").await;
    assert_eq!(body["errors"][0]["field"], "/password", "{body}");
    assert_eq!(body["errors"][0]["code"], "wrong_password", "{body}");
    // Mallory cannot sign in: the account is still unverified.
    assert_eq!(login_status(&app, VICTIM, ATTACKER_PASSWORD).await, 403);
    // Zoë signs up again, which voids Mallory's attempt, and verifies her own.
    app.post_json("/v1/users", signup("Zoë", PASSWORD)).await;
    let hers = links(app.wait_for_mails(VICTIM, 3).await)
        .into_iter()
        .find(|l| *l != first && *l != newest)
        .unwrap();
    problem(
        app.post_json(
            "/v1/users/verify-email",
            json!({"token": newest, "password": ATTACKER_PASSWORD}),
        )
        .await,
        400,
        "invalid_token",
    )
    .await;
    assert_eq!(
        app.post_json(
            "/v1/users/verify-email",
            json!({"token": hers, "password": PASSWORD}),
        )
        .await
        .status(),
        204
    );
    assert_eq!(login_status(&app, VICTIM, PASSWORD).await, 200);
    assert_eq!(login_status(&app, VICTIM, ATTACKER_PASSWORD).await, 401);
}
