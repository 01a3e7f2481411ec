//! The prepaid account (R30–R32), idempotent money operations, refunds, card data kept out of
//! logs, and the demo data.

use futures_util::future::join_all;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::fresh_domain;
use crate::helpers::{
    TestApp, billing_app, get_json, ledger_sum_and_balance, ok, problem, send, send_with,
};

#[tokio::test]
async fn r30_top_ups_stay_within_the_limits_and_the_ceiling() {
    let app = TestApp::builder()
        .env("LEMAN_PREPAID_TOP_UP_MIN", "10.00")
        .env("LEMAN_PREPAID_TOP_UP_MAX", "500.00")
        .env("LEMAN_PREPAID_CEILING", "600.00")
        .spawn()
        .await;
    let (user, s) = app.signed_in("zoe@example.ch").await;
    let (org, visa) = app.funded_org(&s, "Limits", "400.00").await;
    let top_up = |amount: &str| json!({"amount": {"amount": amount, "currency": "CHF"}, "payment_method_id": visa});
    let path = format!("/v1/orgs/{org}/prepaid-account/top-ups");
    for amount in ["9.99", "500.01", "300.00"] {
        problem(
            send(&app, Method::POST, &path, &s, Some(top_up(amount))).await,
            422,
            "amount_out_of_range",
        )
        .await;
    }
    for amount in ["0", "-5.00", "12.345"] {
        problem(
            send(&app, Method::POST, &path, &s, Some(top_up(amount))).await,
            422,
            "validation_failed",
        )
        .await;
    }
    ok(
        send(&app, Method::POST, &path, &s, Some(top_up("200.00"))).await,
        201,
    )
    .await;
    let account = ok(
        send(
            &app,
            Method::GET,
            &format!("/v1/orgs/{org}/prepaid-account"),
            &s,
            None,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(
        account["balance"],
        json!({"amount": "600.00", "currency": "CHF"})
    );
    assert_eq!(
        account["ceiling"],
        json!({"amount": "600.00", "currency": "CHF"})
    );
    // A declined card credits nothing.
    let bad = app
        .add_payment_method(
            &s,
            &org,
            json!({"type": "card", "token": "tok_visa_decline"}),
        )
        .await;
    let res = send(
        &app,
        Method::POST,
        &path,
        &s,
        Some(json!({"amount": {"amount": "10.00", "currency": "CHF"}, "payment_method_id": bad})),
    )
    .await;
    // (the ceiling is reached: refused before any charge)
    problem(res, 422, "amount_out_of_range").await;
    let ledger = ok(
        send(
            &app,
            Method::GET,
            &format!("/v1/orgs/{org}/prepaid-account/transactions"),
            &s,
            None,
        )
        .await,
        200,
    )
    .await;
    let kinds: Vec<&str> = ledger["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["top_up", "top_up"]);
    assert_eq!(
        ledger["data"][0]["balance_after"],
        json!({"amount": "600.00", "currency": "CHF"})
    );
    let receipt = app.wait_for_mail_containing(&user.email, "600.00").await;
    assert!(receipt.contains("CHF 200.00"), "{receipt}");
    assert_eq!(ledger_sum_and_balance(&app, &org).await, (60000, 60000));
}

#[tokio::test]
async fn r32_twenty_concurrent_withdrawals_never_take_the_balance_below_zero() {
    let app = billing_app().await;
    let (_, s) = app.signed_in("zoe@example.ch").await;
    let (org, _) = app.funded_org(&s, "Withdrawals", "100.00").await;
    let path = format!("/v1/orgs/{org}/prepaid-account/withdrawals");
    let attempts = (0..20).map(|_| {
        let (app, s, path) = (&app, &s, &path);
        async move {
            send(app, Method::POST, path, s, Some(json!({"amount": {"amount": "15.00", "currency": "CHF"}, "iban": "CH93 0076 2011 6238 5295 7"})))
                .await
                .status()
                .as_u16()
        }
    });
    let statuses = join_all(attempts).await;
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        6,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 201 || *s == 409),
        "{statuses:?}"
    );
    assert_eq!(ledger_sum_and_balance(&app, &org).await, (1000, 1000));
    // Withdrawing is sensitive; the IBAN is checked and kept masked.
    problem(
        send(
            &app,
            Method::POST,
            &path,
            &s,
            Some(json!({"amount": {"amount": "1.00", "currency": "CHF"}, "iban": "CH00 1234"})),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    app.make_session_not_recent(&s).await;
    problem(send(&app, Method::POST, &path, &s, Some(json!({"amount": {"amount": "1.00", "currency": "CHF"}, "iban": "CH93 0076 2011 6238 5295 7"}))).await, 403, "reauthentication_required").await;
    let ledger = ok(
        send(
            &app,
            Method::GET,
            &format!("/v1/orgs/{org}/prepaid-account/transactions?limit=1"),
            &s,
            None,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(ledger["data"][0]["iban"], "CH93 **** **** **** 5295 7");
}

#[tokio::test]
async fn money_posts_replay_refuse_a_reused_key_and_run_once_under_concurrency() {
    let app = billing_app().await;
    let (_, s) = app.signed_in("zoe@example.ch").await;
    let (org, visa) = app.funded_org(&s, "Keys", "50.00").await;
    let top_up = format!("/v1/orgs/{org}/prepaid-account/top-ups");
    let body = json!({"amount": {"amount": "20.00", "currency": "CHF"}, "payment_method_id": visa});
    let (app_ref, top_up, s_ref) = (&app, &top_up, &s);
    let keyed = |key: &'static str, b: &Value| {
        let b = b.clone();
        async move {
            send_with(
                app_ref,
                Method::POST,
                top_up,
                s_ref,
                Some(b),
                &[("Idempotency-Key", key)],
            )
            .await
        }
    };
    let first = keyed("top-up-1", &body).await;
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();
    let replay = keyed("top-up-1", &body).await;
    assert_eq!(replay.status(), 201);
    assert_eq!(replay.headers()["Idempotent-Replayed"], "true");
    let replay: Value = replay.json().await.unwrap();
    assert_eq!(replay["id"], first["id"]);
    let other =
        json!({"amount": {"amount": "30.00", "currency": "CHF"}, "payment_method_id": visa});
    problem(
        keyed("top-up-1", &other).await,
        422,
        "idempotency_key_reused",
    )
    .await;
    // Twenty at once with one key: one runs, the others replay it or wait (409).
    let same = (0..20).map(|_| async { keyed("top-up-2", &body).await.status().as_u16() });
    let statuses = join_all(same).await;
    assert!(
        statuses.iter().all(|s| *s == 201 || *s == 409),
        "{statuses:?}"
    );
    assert_eq!(
        ledger_sum_and_balance(&app, &org).await.1,
        9000,
        "50 + 20 + 20, once each"
    );
    // An order and its payment, keyed, are made once too.
    let order_body = json!({"items": [{"offer_id": "domain-ch", "billing_period": "P1Y", "domain_name": fresh_domain("ch")}], "payment": {"method": "prepaid"}});
    let orders = format!("/v1/orgs/{org}/orders");
    for _ in 0..3 {
        let res = send_with(
            &app,
            Method::POST,
            &orders,
            &s,
            Some(order_body.clone()),
            &[("Idempotency-Key", "order-1")],
        )
        .await;
        assert_eq!(res.status(), 201);
    }
    let list = ok(send(&app, Method::GET, &orders, &s, None).await, 200).await;
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    assert_eq!(list["data"][0]["status"], "paid");
    assert_eq!(ledger_sum_and_balance(&app, &org).await.1, 9000 - 1189);
}

#[tokio::test]
async fn r31_an_open_invoice_is_paid_from_the_prepaid_account_and_refunds_go_back_to_the_prepaid_account()
 {
    let app = billing_app().await;
    let (user, s) = app.signed_in("zoe@example.ch").await;
    let (org, _) = app.funded_org(&s, "Refunds", "20.00").await;
    let order = app
        .order(
            &s,
            &org,
            json!([{"offer_id": "domain-ch", "billing_period": "P1Y", "domain_name": fresh_domain("ch")}]),
        )
        .await;
    let invoice_id = order["invoice_id"].as_str().unwrap();
    let invoice_path = format!("/v1/orgs/{org}/invoices/{invoice_id}");
    ok(
        send(
            &app,
            Method::POST,
            &format!("/v1/orgs/{org}/invoices/{invoice_id}/payments"),
            &s,
            Some(json!({"method": "prepaid"})),
        )
        .await,
        201,
    )
    .await;
    // Too little left for the next one: refused, nothing moves.
    let next = app
        .order(
            &s,
            &org,
            json!([{"offer_id": "domain-ch", "billing_period": "P1Y", "domain_name": fresh_domain("ch")}]),
        )
        .await;
    problem(
        send(
            &app,
            Method::POST,
            &format!(
                "/v1/orgs/{org}/invoices/{}/payments",
                next["invoice_id"].as_str().unwrap()
            ),
            &s,
            Some(json!({"method": "prepaid"})),
        )
        .await,
        402,
        "insufficient_prepaid_balance",
    )
    .await;
    assert_eq!(ledger_sum_and_balance(&app, &org).await, (811, 811));
    // The operator refunds part of it (back to the prepaid account, where it came from), then
    // the rest.
    let invoice = get_json(&app, &s, &invoice_path).await;
    let number = invoice["number"].as_str().unwrap().to_string();
    let run = |args: &[&str]| app.cli(args, &[]);
    let out = run(&[
        "billing", "refund", &number, "--amount", "5.00", "--to", "original",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("CHF 5.00"));
    let invoice = get_json(&app, &s, &invoice_path).await;
    assert_eq!(invoice["status"], "partially_refunded");
    assert_eq!(ledger_sum_and_balance(&app, &org).await, (1311, 1311));
    assert!(
        run(&["billing", "refund", &number, "--amount", "9.00"])
            .status
            .code()
            != Some(0),
        "more than is left"
    );
    assert!(run(&["billing", "refund", &number]).status.success());
    let invoice = get_json(&app, &s, &invoice_path).await;
    assert_eq!(invoice["status"], "refunded");
    assert_eq!(invoice["refunded"], invoice["total"]);
    app.wait_for_mail_containing(&user.email, &number).await;
}

#[tokio::test]
async fn r31_an_open_invoice_is_paid_from_the_prepaid_account_and_refunds_go_back_to_the_card() {
    let app = billing_app().await;
    let (_, s) = app.signed_in("zoe@example.ch").await;
    // A card payment is refunded to the card.
    let refunds = app
        .an_org(&s)
        .named("Refunds")
        .funded("20.00")
        .with_product(json!([{"offer_id": "domain-li", "billing_period": "P1Y", "domain_name": fresh_domain("li")}]))
        .await;
    let invoice = get_json(
        &app,
        &s,
        &format!("/v1/orgs/{}/invoices/{}", refunds.id, refunds.invoice(0)),
    )
    .await;
    let number = invoice["number"].as_str().unwrap();
    let out = app.cli(&["billing", "refund", number], &[]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("original payment method"));
}

#[test]
fn card_numbers_never_reach_the_logs() {
    use std::io::{BufRead, BufReader, Read};
    use std::process::{Command, Stdio};
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_leman"))
        .env("LEMAN_DATA_DIR", dir.path())
        .env("LEMAN_BIND", format!("127.0.0.1:{port}"))
        .env("LEMAN_LOG", "trace")
        .env("LEMAN_LOG_FORMAT", "json")
        .env_remove("DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !line.contains("serves on") {
        line.clear();
        stderr.read_line(&mut line).unwrap();
        assert!(
            std::time::Instant::now() < deadline,
            "the server did not start"
        );
    }
    let pan = "4000056655665556";
    let rt = tokio::runtime::Runtime::new().unwrap();
    let status = rt.block_on(async {
        reqwest::Client::new()
            .post(format!("http://127.0.0.1:{port}/v1/users"))
            .json(&json!({"email": "a@example.ch", "password": pan, "first_name": format!("Card {pan}"), "last_name": "X"}))
            .send()
            .await
            .unwrap()
            .status()
    });
    assert_eq!(status, 422);
    unsafe { libc_kill(child.id()) };
    let _ = child.wait();
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).unwrap();
    let mut out = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    let logs = format!("{line}{rest}{out}");
    assert!(logs.contains("422"), "the refusal is logged: {logs}");
    assert!(!logs.contains(pan), "the number is in the logs");
}

/// SIGTERM, for a graceful stop.
unsafe fn libc_kill(pid: u32) {
    let _ = std::process::Command::new("kill")
        .arg(pid.to_string())
        .status();
}

#[tokio::test]
async fn demo_data_gives_a_newcomer_a_living_organisation() {
    let app = TestApp::spawn().await;
    let out = app.cli(&["demo-data", "--invoices", "30"], &[]);
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let password = stdout
        .lines()
        .find_map(|l| l.strip_prefix("demo login: demo@leman.localhost / "))
        .unwrap_or_else(|| panic!("no login printed: {stdout}"))
        .to_string();
    let user = crate::helpers::TestUser {
        id: String::new(),
        email: "demo@leman.localhost".into(),
        password,
    };
    let s = app.login(&user).await;
    let orgs = ok(
        send(&app, Method::GET, "/v1/me/organizations", &s, None).await,
        200,
    )
    .await;
    let org = orgs["data"][0]["id"].as_str().unwrap().to_string();
    let products = ok(
        send(
            &app,
            Method::GET,
            &format!("/v1/orgs/{org}/products?limit=100"),
            &s,
            None,
        )
        .await,
        200,
    )
    .await;
    let kinds: std::collections::BTreeSet<&str> = products["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.len() >= 3, "{kinds:?}");
    let open = ok(
        send(
            &app,
            Method::GET,
            &format!("/v1/orgs/{org}/invoices?status=open"),
            &s,
            None,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(open["data"].as_array().unwrap().len(), 1);
    let paid = ok(
        send(
            &app,
            Method::GET,
            &format!("/v1/orgs/{org}/invoices?status=paid&limit=100"),
            &s,
            None,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(paid["data"].as_array().unwrap().len(), 32);
    let ledger = ok(
        send(
            &app,
            Method::GET,
            &format!("/v1/orgs/{org}/prepaid-account/transactions"),
            &s,
            None,
        )
        .await,
        200,
    )
    .await;
    assert!(ledger["data"].as_array().unwrap().len() >= 2);
}
