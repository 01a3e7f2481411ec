//! The mail outbox: written with the change that causes it, delivered by a job.

use diesel::prelude::*;
use leman::db::schema::mails;
use leman::mail;

use crate::helpers::TestApp;

fn context() -> serde_json::Value {
    serde_json::json!({"first_name": "Zoë", "link": "https://app.leman.test/verify-email?token=abc", "hours": 24})
}

#[tokio::test]
async fn a_committed_mail_is_delivered_in_the_users_language() {
    let app = TestApp::spawn().await;
    let config = app.services.config.clone();
    app.with_conn(move |c| {
        leman::db::write(c, |c| {
            mail::send(
                c,
                &config,
                "verify_email",
                "fr",
                "zoe@example.ch",
                context(),
            )
        })
        .unwrap()
    })
    .await;
    let raw = app.wait_for_mail("zoe@example.ch").await;
    assert!(
        raw.contains("Subject: Confirmez votre adresse e-mail")
            || raw.contains("Subject: =?utf-8?"),
        "{raw}"
    );
    assert!(
        raw.contains("multipart/alternative"),
        "text and HTML parts: {raw}"
    );
    assert!(raw.contains("text/html"));
    assert!(raw.contains("From: Leman <no-reply@leman.localhost>"));
    // The outbox row is marked sent (just after the file is written).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let status: String = app
            .with_conn(|c| mails::table.select(mails::status).first(c).unwrap())
            .await;
        if status == "sent" {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "still {status}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_rolled_back_change_sends_no_mail() {
    let app = TestApp::spawn().await;
    let config = app.services.config.clone();
    let result: Result<(), leman::mail::MailError> = app
        .with_conn(move |c| {
            leman::db::write(c, |c| {
                mail::send(
                    c,
                    &config,
                    "verify_email",
                    "en",
                    "ghost@example.ch",
                    context(),
                )?;
                Err(diesel::result::Error::RollbackTransaction.into())
            })
        })
        .await;
    assert!(result.is_err());
    // Give the runner time to find anything there would be.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(app.mails().is_empty());
    let n: i64 = app
        .with_conn(|c| mails::table.count().get_result(c).unwrap())
        .await;
    assert_eq!(n, 0);
}

#[tokio::test]
async fn a_failing_delivery_is_retried_then_kept_as_failed_and_counted() {
    // Nothing listens on port 9 of localhost: every SMTP attempt fails.
    let app = TestApp::builder()
        .env("LEMAN_SMTP_URL", "smtp://127.0.0.1:9")
        .spawn()
        .await;
    let config = app.services.config.clone();
    app.with_conn(move |c| {
        leman::db::write(c, |c| {
            mail::send(
                c,
                &config,
                "verify_email",
                "de",
                "hans@example.ch",
                context(),
            )
        })
        .unwrap()
    })
    .await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let (status, attempts): (String, i32) = app
            .with_conn(|c| {
                mails::table
                    .select((mails::status, mails::attempts))
                    .first(c)
                    .unwrap()
            })
            .await;
        if status == "failed" {
            assert_eq!(
                attempts, 3,
                "one attempt per try (LEMAN_JOB_MAX_ATTEMPTS=3)"
            );
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "still {status} after {attempts} attempts"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let text = app.get("/metrics").await.text().await.unwrap();
    assert!(
        text.contains("leman_mail_delivery_failures_total 3"),
        "{text}"
    );
    assert!(
        text.contains(r#"leman_mails_undelivered{state="failed"} 1"#),
        "{text}"
    );
}
