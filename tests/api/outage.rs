//! The database goes away (issue 15, part 5), in process: what can be made to happen under a
//! running test server. PostgreSQL refusing connections (`ALLOW_CONNECTIONS false` and its
//! sessions ended) or turned read-only (a standby's `default_transaction_read_only`); a SQLite
//! file made immutable (`chattr +i`, which root cannot write through either). A real server
//! stopped for 20 s, and a full disk, are in `make outage-test` (scripts/outage_test.py).

use std::time::{Duration, Instant};

use diesel::prelude::*;
use leman::db::Engine;
use reqwest::Method;
use serde_json::json;

use crate::helpers::*;

/// The bound on any answer while the database is away (the harness holds the server to it too).
const BOUND: Duration = Duration::from_secs(5);

/// An organisation with a card, and a top-up body for it of `cents` above the minimum.
async fn customer(app: &TestApp, email: &str) -> (TestSession, String, String) {
    let (_, s) = app.signed_in(email).await;
    let (org, card) = app.funded_org(&s, "Panne Sàrl", "100.00").await;
    (s, org, card)
}

fn top_up_body(card: &str, amount: &str) -> serde_json::Value {
    json!({"amount": {"amount": amount, "currency": "CHF"}, "payment_method_id": card})
}

async fn top_up(
    app: &TestApp,
    s: &TestSession,
    org: &str,
    card: &str,
    amount: &str,
) -> reqwest::Response {
    send(
        app,
        Method::POST,
        &format!("/v1/orgs/{org}/prepaid-account/top-ups"),
        s,
        Some(top_up_body(card, amount)),
    )
    .await
}

async fn balance(app: &TestApp, s: &TestSession, org: &str) -> String {
    get_json(app, s, &format!("/v1/orgs/{org}/prepaid-account")).await["balance"]["amount"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Runs `sql` as an administrator of the test's PostgreSQL server (the `postgres` database),
/// with `{db}` replaced by the test database's name.
fn pg_admin(app: &TestApp, sql: &str) {
    let url = &app.db.url;
    let (server, rest) = url.rsplit_once('/').unwrap();
    let name = rest.split('?').next().unwrap();
    let mut conn = diesel::PgConnection::establish(&format!("{server}/postgres?sslmode=disable"))
        .expect("connect as administrator");
    for statement in sql.split(';').filter(|s| !s.trim().is_empty()) {
        diesel::sql_query(statement.replace("{db}", name))
            .execute(&mut conn)
            .unwrap_or_else(|e| panic!("{statement}: {e}"));
    }
}

/// Ends every session of the test database (the server's pooled connections).
const END_SESSIONS: &str = "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
    WHERE datname = '{db}' AND pid <> pg_backend_pid()";

/// Retries `f` until it gives `Some`, for at most `within`.
async fn eventually<T, F, Fut>(within: Duration, mut f: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + within;
    loop {
        if let Some(v) = f().await {
            return Some(v);
        }
        if Instant::now() > deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_database_that_refuses_connections_gets_bounded_503s_then_serves_again_without_restart() {
    let app = TestApp::spawn().await;
    if app.db.engine() != Engine::Postgres {
        // SQLite has no server to lose; its read-only file and full disk are tested below and in
        // the harness.
        return;
    }
    let (s, org, card) = customer(&app, "outage.pg@example.com").await;
    pg_admin(
        &app,
        &format!("ALTER DATABASE {{db}} ALLOW_CONNECTIONS false; {END_SESSIONS}"),
    );

    for path in ["/v1/me", &format!("/v1/orgs/{org}/prepaid-account")] {
        let started = Instant::now();
        let res = send(&app, Method::GET, path, &s, None).await;
        assert!(started.elapsed() < BOUND, "{path}: {:?}", started.elapsed());
        assert_eq!(
            res.headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok()),
            Some("5")
        );
        let body = problem(res, 503, "database_unavailable").await;
        assert!(
            !body["detail"].as_str().unwrap().contains("postgres"),
            "no internals: {body}"
        );
    }
    let started = Instant::now();
    problem(
        top_up(&app, &s, &org, &card, "20.00").await,
        503,
        "database_unavailable",
    )
    .await;
    // Once the pool knows the database is down, the answer comes at once.
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    problem(app.get("/readyz").await, 503, "not_ready").await;
    assert_eq!(app.get("/healthz").await.status(), 200);

    pg_admin(&app, "ALTER DATABASE {db} ALLOW_CONNECTIONS true");
    let back = eventually(Duration::from_secs(10), || async {
        (send(&app, Method::GET, "/v1/me", &s, None).await.status() == 200).then_some(())
    })
    .await;
    assert!(back.is_some(), "the pool did not recover");
    assert_eq!(app.get("/readyz").await.status(), 200);
    ok(top_up(&app, &s, &org, &card, "20.00").await, 201).await;
    // The refused top-up changed nothing: 100 + 20, not 140.
    assert_eq!(balance(&app, &s, &org).await, "120.00");
}

#[tokio::test]
async fn a_read_only_database_refuses_writes_with_503_serves_reads_and_writes_again_after() {
    let app = TestApp::spawn().await;
    let (s, org, card) = customer(&app, "outage.ro@example.com").await;
    let path = app.data_dir.path().join("leman.db");
    let files = [
        path.display().to_string(),
        format!("{}-wal", path.display()),
    ];
    match app.db.engine() {
        // A standby after a fail-over, or a database an operator set read-only.
        Engine::Postgres => pg_admin(
            &app,
            &format!(
                "ALTER DATABASE {{db}} SET default_transaction_read_only = on; {END_SESSIONS}"
            ),
        ),
        Engine::Sqlite => {
            // Immutable: not even root writes through it (chmod would not stop root).
            let made = std::process::Command::new("chattr")
                .arg("+i")
                .args(&files)
                .output();
            if !made.as_ref().is_ok_and(|o| o.status.success()) {
                eprintln!(
                    "SKIPPED: chattr +i is not possible here ({made:?}); the harness covers it"
                );
                return;
            }
        }
    }
    let refused = top_up(&app, &s, &org, &card, "30.00").await;
    // PostgreSQL says read-only. On SQLite, a connection opened while the file was writable fails
    // to write its journal (an I/O error), one opened since is read-only: either is a 503 that
    // changed nothing.
    let allowed: &[&str] = match app.db.engine() {
        Engine::Postgres => &["database_read_only"],
        Engine::Sqlite => &["database_read_only", "database_unavailable"],
    };
    let status = refused.status().as_u16();
    let body: serde_json::Value = refused.json().await.unwrap();
    let restore = || match app.db.engine() {
        Engine::Postgres => pg_admin(
            &app,
            &format!(
                "ALTER DATABASE {{db}} SET default_transaction_read_only = off; {END_SESSIONS}"
            ),
        ),
        Engine::Sqlite => {
            std::process::Command::new("chattr")
                .arg("-i")
                .args(&files)
                .status()
                .unwrap();
        }
    };
    let reads = send(
        &app,
        Method::GET,
        &format!("/v1/orgs/{org}/prepaid-account"),
        &s,
        None,
    )
    .await
    .status();
    restore();
    assert_eq!(status, 503, "{body}");
    assert!(
        allowed.contains(&body["code"].as_str().unwrap_or_default()),
        "{body}"
    );
    assert_eq!(
        body["type"],
        format!("urn:leman:problem:{}", body["code"].as_str().unwrap())
    );
    assert_eq!(reads, 200, "reads go on while writes are refused");

    // Writable again: a connection opened read-only is dropped at its first refusal, so writes
    // succeed again without a restart.
    let written = eventually(Duration::from_secs(10), || async {
        let res = top_up(&app, &s, &org, &card, "30.00").await;
        (res.status() == 201).then_some(())
    })
    .await;
    assert!(written.is_some(), "writes did not come back");
    assert_eq!(balance(&app, &s, &org).await, "130.00");
    if app.db.engine() == Engine::Sqlite {
        let check: String = app
            .with_conn(|c| {
                #[derive(QueryableByName)]
                struct Row {
                    #[diesel(sql_type = diesel::sql_types::Text)]
                    integrity_check: String,
                }
                diesel::sql_query("PRAGMA integrity_check")
                    .get_result::<Row>(c)
                    .unwrap()
                    .integrity_check
            })
            .await;
        assert_eq!(check, "ok");
    }
}

#[test]
fn every_operation_declares_the_database_failures_with_retry_after() {
    let mut doc = spec();
    inline_shared(&mut doc);
    let mut checked = 0;
    for (method, path, op) in operations(&doc) {
        if !path.starts_with("/v1/") {
            continue;
        }
        for (status, codes) in [
            ("503", &["database_unavailable", "database_read_only"][..]),
            ("507", &["storage_full"][..]),
        ] {
            let response = &op["responses"][status];
            let declared = response["x-leman-error-codes"]
                .as_array()
                .unwrap_or_else(|| panic!("{method} {path}: no {status}"));
            for code in codes {
                assert!(
                    declared.iter().any(|c| c == code),
                    "{method} {path} {status}: {code} not declared"
                );
            }
            assert!(
                response["headers"]["Retry-After"].is_object(),
                "{method} {path} {status}: no Retry-After"
            );
        }
        checked += 1;
    }
    assert!(checked > 90, "{checked}");
}
