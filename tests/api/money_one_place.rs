//! Money moves in one place (issue 10, part 6): a refund through the provider holds no lock
//! while the provider is asked, goes through once however often it is asked, and a refund the
//! provider refuses changes nothing. The sandbox's `tok_visa_refund_slow` card takes
//! `SLOW_REFUND` to refund (and logs when it starts); `tok_visa_refund_fails` refuses.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::fresh_domain;
use crate::helpers::{TestApp, TestSession, billing_app, card, ledger_sum_and_balance, ok, send};

/// What the sandbox logs when a slow refund reaches it.
const IN_PROVIDER: &str = "slow refund under way";

/// `leman billing refund …` running in the background, and its log lines as they come.
pub(crate) struct Running {
    pub(crate) child: Child,
    lines: mpsc::Receiver<String>,
}

pub(crate) fn start_refund(app: &TestApp, args: &[&str]) -> Running {
    let mut child = Command::new(env!("CARGO_BIN_EXE_leman"))
        .args(["billing", "refund"])
        .args(args)
        .env("DATABASE_URL", &app.db.url)
        .env("LEMAN_DATA_DIR", app.data_dir.path())
        .env("LEMAN_JOBS", "false")
        .env("LEMAN_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            // Keeps reading after the test stopped listening: the child never blocks on a pipe.
            let _ = tx.send(line);
        }
    });
    Running { child, lines }
}

impl Running {
    /// Returns once the refund is in the provider's hands (after its claim committed).
    pub(crate) async fn in_provider_call(self) -> Self {
        tokio::task::spawn_blocking(move || {
            let mut seen = Vec::new();
            loop {
                match self.lines.recv_timeout(Duration::from_secs(60)) {
                    Ok(line) if line.contains(IN_PROVIDER) => return self,
                    Ok(line) => seen.push(line),
                    Err(e) => panic!("the refund never reached the provider ({e}): {seen:#?}"),
                }
            }
        })
        .await
        .unwrap()
    }

    pub(crate) async fn finish(self) -> Output {
        tokio::task::spawn_blocking(move || self.child.wait_with_output().unwrap())
            .await
            .unwrap()
    }
}

async fn get(app: &TestApp, s: &TestSession, path: &str) -> Value {
    ok(send(app, Method::GET, path, s, None).await, 200).await
}

/// An organisation with a card saved from `token`; returns (organisation id, card id).
pub(crate) async fn org_with_card(app: &TestApp, s: &TestSession, token: &str) -> (String, String) {
    let org = app.create_org(s, "Refunds").await;
    let card_id = app
        .add_payment_method(s, &org, json!({"type": "card", "token": token}))
        .await;
    (org, card_id)
}

/// Orders a domain and pays it with the card; returns the invoice's path and number.
pub(crate) async fn paid_by_card(
    app: &TestApp,
    s: &TestSession,
    org: &str,
    card_id: &str,
) -> (String, String) {
    let order = app
        .order(
            s,
            org,
            json!([{"offer_id": "domain-ch", "billing_period": "P1Y", "domain_name": fresh_domain("ch")}]),
        )
        .await;
    let pay = format!(
        "/v1/orgs/{org}/orders/{}/payments",
        order["id"].as_str().unwrap()
    );
    ok(
        send(app, Method::POST, &pay, s, Some(card(card_id))).await,
        201,
    )
    .await;
    let path = format!(
        "/v1/orgs/{org}/invoices/{}",
        order["invoice_id"].as_str().unwrap()
    );
    let number = get(app, s, &path).await["number"]
        .as_str()
        .unwrap()
        .to_string();
    (path, number)
}

fn top_up(amount: &str, card_id: &str) -> Value {
    json!({"amount": {"amount": amount, "currency": "CHF"}, "payment_method_id": card_id})
}

#[tokio::test]
async fn v6_writes_go_on_while_the_provider_refunds() {
    let app = billing_app().await;
    let (_, s) = app.signed_in("zoe@example.ch").await;
    let (org, slow) = org_with_card(&app, &s, "tok_visa_refund_slow").await;
    let (invoice, number) = paid_by_card(&app, &s, &org, &slow).await;
    let refund = start_refund(&app, &[&number]).in_provider_call().await;
    // While the provider refunds, the same organisation's money moves: a top-up (which takes
    // the organisation's lock and its prepaid account's) is answered, and the invoice is still
    // paid: the refund has not settled, so nothing waited for it.
    let started = std::time::Instant::now();
    ok(
        send(
            &app,
            Method::POST,
            &format!("/v1/orgs/{org}/prepaid-account/top-ups"),
            &s,
            Some(top_up("20.00", &slow)),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(
        get(&app, &s, &invoice).await["status"],
        "paid",
        "the top-up waited for the refund ({:?})",
        started.elapsed()
    );
    assert!(started.elapsed() < leman::gateway::sandbox::SLOW_REFUND);
    let out = refund.finish().await;
    assert!(out.status.success(), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("to the original payment method"),
        "{out:?}"
    );
    let paid = get(&app, &s, &invoice).await;
    assert_eq!(paid["status"], "refunded");
    assert_eq!(paid["refunded"], paid["total"]);
    assert_eq!(ledger_sum_and_balance(&app, &org).await, (2000, 2000));
}

#[tokio::test]
async fn v6_a_refund_asked_twice_goes_to_the_provider_once() {
    let app = billing_app().await;
    let (_, s) = app.signed_in("zoe@example.ch").await;
    let (org, slow) = org_with_card(&app, &s, "tok_visa_refund_slow").await;
    let (invoice, number) = paid_by_card(&app, &s, &org, &slow).await;
    let first = start_refund(&app, &[&number]).in_provider_call().await;
    // Asked again while the provider refunds: refused before the provider is asked.
    let second = app.cli(&["billing", "refund", &number], &[("LEMAN_LOG", "info")]);
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(!second.status.success(), "{second:?}");
    assert!(stderr.contains("under way"), "{stderr}");
    assert!(!stderr.contains(IN_PROVIDER), "{stderr}");
    // Even a part of it: the pending refund holds the whole amount it claims.
    let part = app.cli(
        &[
            "billing", "refund", &number, "--amount", "1.00", "--to", "prepaid",
        ],
        &[],
    );
    assert!(!part.status.success(), "{part:?}");
    let out = first.finish().await;
    assert!(out.status.success(), "{out:?}");
    // Replayed once done: nothing is left, the provider is not asked.
    let replay = app.cli(&["billing", "refund", &number], &[("LEMAN_LOG", "info")]);
    let stderr = String::from_utf8_lossy(&replay.stderr);
    assert!(!replay.status.success(), "{replay:?}");
    assert!(stderr.contains("left to refund"), "{stderr}");
    assert!(!stderr.contains(IN_PROVIDER), "{stderr}");
    let paid = get(&app, &s, &invoice).await;
    assert_eq!(paid["status"], "refunded");
    assert_eq!(paid["refunded"], paid["total"]);
    assert_eq!(ledger_sum_and_balance(&app, &org).await, (0, 0));
}

#[tokio::test]
async fn v6_a_refund_the_provider_refuses_changes_nothing() {
    let app = billing_app().await;
    let (_, s) = app.signed_in("zoe@example.ch").await;
    let (org, failing) = org_with_card(&app, &s, "tok_visa_refund_fails").await;
    ok(
        send(
            &app,
            Method::POST,
            &format!("/v1/orgs/{org}/prepaid-account/top-ups"),
            &s,
            Some(top_up("50.00", &failing)),
        )
        .await,
        201,
    )
    .await;
    let (invoice, number) = paid_by_card(&app, &s, &org, &failing).await;
    let before = get(&app, &s, &invoice).await;
    let out = app.cli(&["billing", "refund", &number, "--to", "original"], &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{out:?}");
    // A definite refusal (not a lost answer): the claim is released at once.
    assert!(
        stderr.contains("refused") && stderr.contains("nothing was refunded"),
        "{stderr}"
    );
    assert_eq!(get(&app, &s, &invoice).await, before);
    assert_eq!(ledger_sum_and_balance(&app, &org).await, (5000, 5000));
    // The failed refund claims nothing any more: the money can go back another way.
    let out = app.cli(&["billing", "refund", &number, "--to", "prepaid"], &[]);
    assert!(out.status.success(), "{out:?}");
    let refunded = get(&app, &s, &invoice).await;
    assert_eq!(refunded["status"], "refunded");
    let total = refunded["total"]["amount"]
        .as_str()
        .unwrap()
        .replace('.', "");
    let total: i64 = total.parse().unwrap();
    assert_eq!(
        ledger_sum_and_balance(&app, &org).await,
        (5000 + total, 5000 + total)
    );
}

/// Review of issue 10: a refund whose command dies while the provider works stays pending; a new
/// refund is refused and points to `--resume`, which asks the provider again with the same
/// refund id (the sandbox, like a real provider's idempotency key, answers the first refund)
/// and records it once.
#[tokio::test]
async fn v6_a_refund_whose_command_died_is_resumed_once() {
    let app = billing_app().await;
    let (_, s) = app.signed_in("zoe@example.ch").await;
    let (org, slow) = org_with_card(&app, &s, "tok_visa_refund_slow").await;
    let (invoice, number) = paid_by_card(&app, &s, &org, &slow).await;
    let mut died = start_refund(&app, &[&number]).in_provider_call().await;
    died.child.kill().unwrap();
    let _ = died.finish().await;
    assert_eq!(get(&app, &s, &invoice).await["status"], "paid");
    let again = app.cli(&["billing", "refund", &number], &[]);
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(!again.status.success(), "{again:?}");
    assert!(stderr.contains("--resume"), "{stderr}");
    let resumed = app.cli(&["billing", "refund", &number, "--resume"], &[]);
    assert!(resumed.status.success(), "{resumed:?}");
    let refunded = get(&app, &s, &invoice).await;
    assert_eq!(refunded["status"], "refunded");
    assert_eq!(refunded["refunded"], refunded["total"]);
    let twice = app.cli(&["billing", "refund", &number, "--resume"], &[]);
    let stderr = String::from_utf8_lossy(&twice.stderr);
    assert!(!twice.status.success(), "{twice:?}");
    assert!(stderr.contains("no refund pending"), "{stderr}");
    assert_eq!(get(&app, &s, &invoice).await, refunded);
}

/// Review of issue 10: a deleted organisation's prepaid account pays nothing out (it is purged
/// with its balance), so no refund is credited there; the original method still works.
#[tokio::test]
async fn v6_no_refund_goes_to_a_deleted_organisations_prepaid_account() {
    let app = billing_app().await;
    let (_, s) = app.signed_in("zoe@example.ch").await;
    let (org, visa) = org_with_card(&app, &s, "tok_visa").await;
    let (_, number) = paid_by_card(&app, &s, &org, &visa).await;
    let deleted = org.clone();
    app.with_conn(move |c| {
        let now = leman::db::now();
        leman::models::organizations::mark_deleted(
            c,
            &deleted,
            now,
            now + chrono::Duration::days(3650),
        )
        .unwrap();
    })
    .await;
    let out = app.cli(&["billing", "refund", &number, "--to", "prepaid"], &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{out:?}");
    assert!(stderr.contains("deleted"), "{stderr}");
    assert_eq!(ledger_sum_and_balance(&app, &org).await, (0, 0));
    let out = app.cli(&["billing", "refund", &number, "--to", "original"], &[]);
    assert!(out.status.success(), "{out:?}");
}
