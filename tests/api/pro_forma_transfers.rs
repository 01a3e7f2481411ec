//! A bank transfer quoting a pro forma made on request (R28). Such a pro forma has no payment of
//! its own, yet its PDF invites a transfer: the money that arrives is never dropped. Its total is
//! credited in full to the organisation's prepaid account (whatever the ceiling, even after the
//! pro forma lapsed), the pro forma becomes `credited` (still a quote: nothing ordered or
//! invoiced), the requester is mailed, one activity; each provider event once, and another
//! transfer quoting the same reference is credited too.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{
    TestApp, TestSession, billing_app, get_json, ledger_sum_and_balance, ok, problem, send,
};

async fn request_pro_forma(app: &TestApp, s: &TestSession, org: &str) -> Value {
    ok(
        send(
            app,
            Method::POST,
            &format!("/v1/orgs/{org}/pro-forma-invoices"),
            s,
            Some(json!({"items": [
                {"offer_id": "ksuite-pro", "billing_period": "P1Y", "options": {"users": 25}}
            ]})),
        )
        .await,
        201,
    )
    .await
}

fn transfer(id: &str, kind: &str, reference: &str) -> Value {
    json!({"id": id, "type": kind, "data": {"payment_reference": reference}})
}

async fn deliver(app: &TestApp, id: &str, reference: &str) -> bool {
    let now = chrono::Utc::now().timestamp();
    let res = ok(
        app.webhook(transfer(id, "payment.succeeded", reference), now)
            .await,
        200,
    )
    .await;
    res["applied"].as_bool().unwrap()
}

async fn balance(app: &TestApp, s: &TestSession, org: &str) -> Value {
    get_json(app, s, &format!("/v1/orgs/{org}/prepaid-account")).await["balance"].clone()
}

async fn count(app: &TestApp, s: &TestSession, path: &str) -> usize {
    get_json(app, s, path).await["data"]
        .as_array()
        .unwrap()
        .len()
}

fn reference_of(pf: &Value) -> String {
    pf["bank_transfer"]["reference"]
        .as_str()
        .unwrap()
        .to_string()
}

fn money_times(m: &Value, n: i64) -> String {
    let v: rust_decimal::Decimal = m["amount"].as_str().unwrap().parse().unwrap();
    (v * rust_decimal::Decimal::from(n)).to_string()
}

#[tokio::test]
async fn r28_a_transfer_quoting_a_requested_pro_forma_is_credited_to_the_prepaid_account() {
    let app = billing_app().await;
    let (_, s) = app.signed_in("pft.payer@example.ch").await;
    let org = app.create_org(&s, "Virement Sàrl").await;
    let pf = request_pro_forma(&app, &s, &org).await;
    let path = format!(
        "/v1/orgs/{org}/pro-forma-invoices/{}",
        pf["id"].as_str().unwrap()
    );
    let reference = reference_of(&pf);
    // Another organisation, with a pro forma of its own.
    let (_, other_s) = app.signed_in("pft.other@example.ch").await;
    let other = app.create_org(&other_s, "Autre SA").await;
    let other_pf = request_pro_forma(&app, &other_s, &other).await;
    let other_path = format!(
        "/v1/orgs/{other}/pro-forma-invoices/{}",
        other_pf["id"].as_str().unwrap()
    );
    let other_before = get_json(&app, &other_s, &other_path).await;

    // A failed transfer moves nothing.
    let now = chrono::Utc::now().timestamp();
    let failed = ok(
        app.webhook(
            transfer("evt_pft_failed", "payment.failed", &reference),
            now,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(failed["applied"], false, "{failed}");
    assert_eq!(
        get_json(&app, &s, &path).await["status"],
        "awaiting_transfer"
    );

    // The transfer arrives: its total, in full, on the prepaid account.
    assert!(deliver(&app, "evt_pft_1", &reference).await);
    assert_eq!(balance(&app, &s, &org).await, pf["total"]);
    let (sum, stored) = ledger_sum_and_balance(&app, &org).await;
    assert_eq!(sum, stored);
    let ledger = get_json(
        &app,
        &s,
        &format!("/v1/orgs/{org}/prepaid-account/transactions"),
    )
    .await;
    let rows = ledger["data"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{ledger}");
    assert_eq!(rows[0]["kind"], "top_up");
    assert_eq!(rows[0]["amount"], pf["total"]);

    // The pro forma is credited, by that transfer; still a quote: no order, no invoice.
    let shown = get_json(&app, &s, &path).await;
    assert_eq!(shown["status"], "credited", "{shown}");
    let payment = shown["payment"].clone();
    assert_eq!(payment["status"], "succeeded");
    assert_eq!(payment["method"], "bank_transfer");
    assert_eq!(payment["amount"], pf["total"]);
    assert_eq!(payment["bank_transfer"]["reference"], reference.as_str());
    assert_eq!(rows[0]["payment_id"], payment["id"], "{ledger}");
    assert_eq!(shown["order_id"], Value::Null);
    assert_eq!(shown["invoice_id"], Value::Null);
    assert_eq!(shown["legal_value"], false);
    assert_eq!(count(&app, &s, &format!("/v1/orgs/{org}/orders")).await, 0);
    assert_eq!(
        count(&app, &s, &format!("/v1/orgs/{org}/invoices")).await,
        0
    );

    // The requester is told, with the pro forma's number; one activity.
    let number = pf["number"].as_str().unwrap();
    let mail = app
        .wait_for_mail_containing("pft.payer@example.ch", number)
        .await;
    assert!(mail.contains("topped up"), "{mail}");
    let credited = |actions: Vec<String>| {
        actions
            .iter()
            .filter(|a| *a == "pro_forma.credited")
            .count()
    };
    assert_eq!(credited(app.activities_of_org(&org).await), 1);

    // The same event again: nothing more.
    assert!(!deliver(&app, "evt_pft_1", &reference).await);
    assert_eq!(balance(&app, &s, &org).await, pf["total"]);
    assert_eq!(credited(app.activities_of_org(&org).await), 1);

    // A second transfer quoting the same reference: credited too (the money arrived), the pro
    // forma keeping its first settlement.
    assert!(deliver(&app, "evt_pft_2", &reference).await);
    let twice = money_times(&pf["total"], 2);
    assert_eq!(balance(&app, &s, &org).await["amount"], twice.as_str());
    let (sum, stored) = ledger_sum_and_balance(&app, &org).await;
    assert_eq!(sum, stored);
    let again = get_json(&app, &s, &path).await;
    assert_eq!(again["status"], "credited");
    assert_eq!(again["payment"]["id"], payment["id"]);
    assert_eq!(credited(app.activities_of_org(&org).await), 2);
    assert_eq!(app.wait_for_mails("pft.payer@example.ch", 2).await.len(), 2);
    assert_eq!(count(&app, &s, &format!("/v1/orgs/{org}/orders")).await, 0);

    // The other organisation: unaffected.
    assert_eq!(get_json(&app, &other_s, &other_path).await, other_before);
    assert_eq!(balance(&app, &other_s, &other).await["amount"], "0.00");
    assert_eq!(credited(app.activities_of_org(&other).await), 0);
    // And its members still cannot see this one.
    let res = send(&app, Method::GET, &path, &other_s, None).await;
    assert!(
        [403, 404].contains(&res.status().as_u16()),
        "{}",
        res.status()
    );
}

#[tokio::test]
async fn r28_a_lapsed_requested_pro_forma_still_credits_its_transfer_above_the_ceiling() {
    // A ceiling below the pro forma's total: money that arrived is credited all the same.
    let app = TestApp::builder()
        .env(
            "LEMAN_PAYMENT_WEBHOOK_SECRETS",
            crate::helpers::WEBHOOK_SECRET,
        )
        .env("LEMAN_PREPAID_TOP_UP_MIN", "10")
        .env("LEMAN_PREPAID_TOP_UP_MAX", "20")
        .env("LEMAN_PREPAID_CEILING", "20")
        .spawn()
        .await;
    let (_, s) = app.signed_in("pft.late@example.ch").await;
    let org = app.create_org(&s, "Tardif Sàrl").await;
    let pf = request_pro_forma(&app, &s, &org).await;
    let id = pf["id"].as_str().unwrap().to_string();
    let path = format!("/v1/orgs/{org}/pro-forma-invoices/{id}");
    // Its validity ran out.
    app.with_conn(move |c| {
        use diesel::prelude::*;
        use leman::db::schema::pro_formas;
        diesel::update(pro_formas::table.find(id))
            .set(pro_formas::expires_at.eq(leman::db::now() - chrono::Duration::days(1)))
            .execute(c)
            .unwrap();
    })
    .await;
    assert_eq!(get_json(&app, &s, &path).await["status"], "lapsed");

    assert!(deliver(&app, "evt_pft_late", &reference_of(&pf)).await);
    assert_eq!(balance(&app, &s, &org).await, pf["total"]);
    let total: rust_decimal::Decimal = pf["total"]["amount"].as_str().unwrap().parse().unwrap();
    assert!(total > rust_decimal::Decimal::from(20), "{total}");
    let (sum, stored) = ledger_sum_and_balance(&app, &org).await;
    assert_eq!(sum, stored);
    let shown = get_json(&app, &s, &path).await;
    assert_eq!(shown["status"], "credited", "{shown}");
    assert_eq!(shown["invoice_id"], Value::Null);
}

#[tokio::test]
async fn r28_a_requested_pro_forma_locks_the_organisation_currency() {
    // Its transfer, in the organisation's currency, may arrive at any time.
    let app = billing_app().await;
    let (_, s) = app.signed_in("pft.currency@example.ch").await;
    let org = app.create_org(&s, "Devise Sàrl").await;
    request_pro_forma(&app, &s, &org).await;
    let res = send(
        &app,
        Method::PATCH,
        &format!("/v1/orgs/{org}"),
        &s,
        Some(json!({"currency": "EUR"})),
    )
    .await;
    problem(res, 409, "currency_locked").await;
}

#[tokio::test]
async fn two_deliveries_of_one_transfer_event_at_once_credit_it_once() {
    let app = billing_app().await;
    let (_, s) = app.signed_in("pft.race@example.ch").await;
    let org = app.create_org(&s, "Course Sàrl").await;
    let pf = request_pro_forma(&app, &s, &org).await;
    let reference = reference_of(&pf);
    let (a, b) = tokio::join!(
        deliver(&app, "evt_pft_race", &reference),
        deliver(&app, "evt_pft_race", &reference)
    );
    assert!(a ^ b, "applied once: {a} {b}");
    assert_eq!(balance(&app, &s, &org).await, pf["total"]);
    let (sum, stored) = ledger_sum_and_balance(&app, &org).await;
    assert_eq!(sum, stored);
    let path = format!(
        "/v1/orgs/{org}/pro-forma-invoices/{}",
        pf["id"].as_str().unwrap()
    );
    assert_eq!(get_json(&app, &s, &path).await["status"], "credited");
    // Two distinct transfers at once: both credited, the pro forma settled by one of them.
    let (a, b) = tokio::join!(
        deliver(&app, "evt_pft_race_a", &reference),
        deliver(&app, "evt_pft_race_b", &reference)
    );
    assert!(a && b);
    assert_eq!(
        balance(&app, &s, &org).await["amount"],
        money_times(&pf["total"], 3).as_str()
    );
    let (sum, stored) = ledger_sum_and_balance(&app, &org).await;
    assert_eq!(sum, stored);
}

/// Recursive mod 10 of the Swiss QR reference (SIX IG, annex B), written here independently.
fn qr_check(digits: &str) -> char {
    const TABLE: [usize; 10] = [0, 9, 4, 6, 8, 2, 7, 1, 3, 5];
    let carry = digits
        .bytes()
        .fold(0, |carry, d| TABLE[(carry + (d - b'0') as usize) % 10]);
    char::from(b'0' + ((10 - carry) % 10) as u8)
}

/// ISO 11649: `RF`, two check digits (98 − mod 97 of body + "RF00", letters as 10…35), body.
fn creditor_reference(body: &str) -> String {
    let numeric: String = format!("{body}RF00")
        .chars()
        .map(|c| c.to_digit(36).unwrap().to_string())
        .collect();
    let rem = numeric
        .bytes()
        .fold(0u32, |acc, d| (acc * 10 + (d - b'0') as u32) % 97);
    format!("RF{:02}{body}", 98 - rem)
}

#[tokio::test]
async fn r28_a_transfer_reported_with_the_qr_codes_structured_reference_is_credited_too() {
    let app = billing_app().await;
    let (_, s) = app.signed_in("pft.structured@example.ch").await;
    let org = app.create_org(&s, "Référence Sàrl").await;
    let pf = request_pro_forma(&app, &s, &org).await;
    let digits: String = pf["number"]
        .as_str()
        .unwrap()
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    let body = format!("{:0>26}", format!("2{digits}"));
    let qrr = format!("{body}{}", qr_check(&body));
    // Reported with spaces, in groups of five, as banks print it.
    let spaced: String = qrr
        .chars()
        .rev()
        .collect::<Vec<_>>()
        .chunks(5)
        .map(|c| c.iter().rev().collect::<String>())
        .rev()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(deliver(&app, "evt_structured_qrr", &spaced).await);
    let path = format!(
        "/v1/orgs/{org}/pro-forma-invoices/{}",
        pf["id"].as_str().unwrap()
    );
    assert_eq!(get_json(&app, &s, &path).await["status"], "credited");
    assert_eq!(balance(&app, &s, &org).await, pf["total"]);
    // The creditor reference (an IBAN without QR) names it too; a reference of no pro forma
    // (a wrong check digit) is not applied.
    let scor = creditor_reference(&format!("PF{digits}"));
    assert!(deliver(&app, "evt_structured_scor", &scor).await);
    assert_eq!(
        balance(&app, &s, &org).await["amount"],
        money_times(&pf["total"], 2)
    );
    let wrong = format!("{body}{}", (qr_check(&body) as u8 - b'0' + 1) % 10);
    assert!(!deliver(&app, "evt_structured_wrong", &wrong).await);
    let (sum, bal) = ledger_sum_and_balance(&app, &org).await;
    assert_eq!(sum, bal);
}
