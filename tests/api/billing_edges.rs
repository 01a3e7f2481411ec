//! Billing at its edges: top-ups still being confirmed, money that would change currency or
//! outlive its organisation, amounts written loosely, orders paid from too small a balance,
//! ambiguous bodies.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::fresh_domain;
use crate::helpers::{
    TestApp, WEBHOOK_SECRET, billing_app, card, get_json, ledger_sum_and_balance, ok, problem,
    sandbox_reference, send,
};

async fn ceiling_app() -> TestApp {
    TestApp::builder()
        .env("LEMAN_PAYMENT_WEBHOOK_SECRETS", WEBHOOK_SECRET)
        .env("LEMAN_PREPAID_TOP_UP_MAX", "500.00")
        .env("LEMAN_PREPAID_CEILING", "600.00")
        .spawn()
        .await
}

#[tokio::test]
async fn top_ups_being_confirmed_count_towards_the_ceiling_and_block_deleting_the_organisation() {
    let app = ceiling_app().await;
    let (_, s) = app.signed_in("zoe@example.ch").await;
    let (org, visa) = app.funded_org(&s, "Ceiling", "400.00").await;
    let slow = app
        .add_payment_method(&s, &org, json!({"type": "card", "token": "tok_visa_async"}))
        .await;
    let path = format!("/v1/orgs/{org}/prepaid-account/top-ups");
    let top_up = |amount: &str, method: &str| json!({"amount": {"amount": amount, "currency": "CHF"}, "payment_method_id": method});
    let pending = ok(
        send(&app, Method::POST, &path, &s, Some(top_up("150.00", &slow))).await,
        202,
    )
    .await;
    // 400 credited + 150 coming + 100 asked > 600, though the balance alone is 400.
    for method in [&slow, &visa] {
        problem(
            send(
                &app,
                Method::POST,
                &path,
                &s,
                Some(top_up("100.00", method)),
            )
            .await,
            422,
            "amount_out_of_range",
        )
        .await;
    }
    let check = get_json(&app, &s, &format!("/v1/orgs/{org}/deletion-check")).await;
    let codes: Vec<&str> = check["unmet"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["prepaid_balance", "payments_pending"], "{check}");
    let event = json!({"id": "evt_ceiling", "type": "payment.succeeded",
        "data": {"payment_reference": sandbox_reference(pending["id"].as_str().unwrap())}});
    ok(
        app.webhook(event, chrono::Utc::now().timestamp()).await,
        200,
    )
    .await;
    ok(
        send(&app, Method::POST, &path, &s, Some(top_up("50.00", &visa))).await,
        201,
    )
    .await;
    let account = get_json(&app, &s, &format!("/v1/orgs/{org}/prepaid-account")).await;
    assert_eq!(
        account["balance"],
        json!({"amount": "600.00", "currency": "CHF"})
    );
    // At the ceiling, a card payment refunded "to prepaid" is refused (the operator refunds it
    // to the card); to the card it goes.
    let order = app
        .order(
            &s,
            &org,
            json!([{"offer_id": "domain-ch", "billing_period": "P1Y", "domain_name": fresh_domain("ch")}]),
        )
        .await;
    let pay = format!(
        "/v1/orgs/{org}/orders/{}/payments",
        order["id"].as_str().unwrap()
    );
    ok(
        send(&app, Method::POST, &pay, &s, Some(card(&visa))).await,
        201,
    )
    .await;
    let invoice = get_json(
        &app,
        &s,
        &format!(
            "/v1/orgs/{org}/invoices/{}",
            order["invoice_id"].as_str().unwrap()
        ),
    )
    .await;
    let number = invoice["number"].as_str().unwrap();
    let limits = [
        ("LEMAN_PREPAID_TOP_UP_MAX", "500.00"),
        ("LEMAN_PREPAID_CEILING", "600.00"),
    ];
    let refund = |to: &str| app.cli(&["billing", "refund", number, "--to", to], &limits);
    let refused = refund("prepaid");
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("exceed its ceiling"), "{stderr}");
    assert!(refund("original").status.success());
    let account = get_json(&app, &s, &format!("/v1/orgs/{org}/prepaid-account")).await;
    assert_eq!(
        account["balance"],
        json!({"amount": "600.00", "currency": "CHF"})
    );
}

#[tokio::test]
async fn prepaid_money_locks_the_currency() {
    let app = TestApp::spawn().await;
    let (_, s) = app.signed_in("zoe@example.ch").await;
    let (org, _) = app.funded_org(&s, "Francs", "100.00").await;
    problem(
        send(
            &app,
            Method::PATCH,
            &format!("/v1/orgs/{org}"),
            &s,
            Some(json!({"currency": "EUR"})),
        )
        .await,
        409,
        "currency_locked",
    )
    .await;
    let account = get_json(&app, &s, &format!("/v1/orgs/{org}/prepaid-account")).await;
    assert_eq!(
        account["balance"],
        json!({"amount": "100.00", "currency": "CHF"})
    );
}

#[tokio::test]
async fn amounts_are_decimal_strings_and_nothing_else() {
    let app = TestApp::spawn().await;
    let (_, s) = app.signed_in("zoe@example.ch").await;
    let (org, visa) = app.funded_org(&s, "Strict", "100.00").await;
    for amount in [
        json!("1e2"),
        json!("1_000"),
        json!("+20.00"),
        json!(" 20.00"),
        json!("20,00"),
        json!(20),
    ] {
        let body = problem(
            send(
                &app,
                Method::POST,
                &format!("/v1/orgs/{org}/prepaid-account/top-ups"),
                &s,
                Some(json!({"amount": {"amount": amount, "currency": "CHF"}, "payment_method_id": visa})),
            )
            .await,
            422,
            "validation_failed",
        )
        .await;
        assert_eq!(body["errors"][0]["field"], "/amount/amount", "{amount}");
    }
    let account = get_json(&app, &s, &format!("/v1/orgs/{org}/prepaid-account")).await;
    assert_eq!(
        account["balance"],
        json!({"amount": "100.00", "currency": "CHF"})
    );
}

#[tokio::test]
async fn an_order_the_prepaid_balance_cannot_cover_is_refused_whole() {
    let app = TestApp::spawn().await;
    let (_, s) = app.signed_in("zoe@example.ch").await;
    let (org, _) = app.funded_org(&s, "Short", "10.00").await;
    let orders = format!("/v1/orgs/{org}/orders");
    let domain = || json!([{"offer_id": "domain-ch", "billing_period": "P1Y", "domain_name": fresh_domain("ch")}]);
    problem(
        send(
            &app,
            Method::POST,
            &orders,
            &s,
            Some(json!({"items": domain(), "payment": {"method": "prepaid"}})),
        )
        .await,
        402,
        "insufficient_prepaid_balance",
    )
    .await;
    assert_eq!(get_json(&app, &s, &orders).await["data"], json!([]));
    // Nothing was issued: the next invoice takes the first number.
    let year = chrono::Utc::now().format("%Y").to_string();
    let order = app.order(&s, &org, domain()).await;
    let invoice = get_json(
        &app,
        &s,
        &format!(
            "/v1/orgs/{org}/invoices/{}",
            order["invoice_id"].as_str().unwrap()
        ),
    )
    .await;
    assert_eq!(invoice["number"], format!("{year}-000001"));
    // Covered, the order is paid in the same request, and the list shows its products.
    let (rich, _) = app.funded_org(&s, "Rich", "100.00").await;
    let paid = ok(
        send(
            &app,
            Method::POST,
            &format!("/v1/orgs/{rich}/orders"),
            &s,
            Some(json!({"items": domain(), "payment": {"method": "prepaid"}})),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(paid["status"], "paid");
    assert_eq!(paid["payment"]["status"], "succeeded");
    // A domain waits for the registry (`provisioning`), then is active.
    assert!(
        ["provisioning", "active"].contains(&paid["products"][0]["status"].as_str().unwrap()),
        "{paid}"
    );
    let list = get_json(&app, &s, &format!("/v1/orgs/{rich}/orders")).await;
    assert_eq!(list["data"][0]["id"], paid["id"], "{list}");
    let product = paid["products"][0]["id"].as_str().unwrap();
    let active = app.wait_until_provisioned(&s, &rich, product).await;
    assert_eq!(active["status"], "active");
}

#[tokio::test]
async fn options_below_what_the_offer_includes_are_refused() {
    let app = TestApp::spawn().await;
    let (_, s) = app.signed_in("zoe@example.ch").await;
    let org = app.create_org(&s, "Suite").await;
    let body = problem(
        send(
            &app,
            Method::POST,
            &format!("/v1/orgs/{org}/orders"),
            &s,
            Some(json!({"items": [{"offer_id": "ksuite-pro", "billing_period": "P1Y", "options": {"users": 12}}]})),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "/items/0/options/users");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("20"),
        "{body}"
    );
}

#[tokio::test]
async fn a_key_given_twice_is_refused_and_nothing_is_created() {
    let app = TestApp::spawn().await;
    let (_, s) = app.signed_in("zoe@example.ch").await;
    let org = app.create_org(&s, "Twice").await;
    let path = format!("/v1/orgs/{org}/payment-methods");
    // Raw bytes: a JSON value cannot hold the same key twice.
    let res = app
        .client
        .post(app.url(&path))
        .bearer_auth(&s.access_token)
        .header("Content-Type", "application/json")
        .body(r#"{"type":"card","type":"twint","token":"tok_visa"}"#)
        .send()
        .await
        .unwrap();
    let body = problem(res, 422, "validation_failed").await;
    assert_eq!(body["errors"][0]["field"], "/type");
    assert_eq!(body["errors"][0]["code"], "duplicate_key");
    let methods = get_json(&app, &s, &path).await;
    let types: Vec<&str> = methods["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["prepaid"]);
}

#[tokio::test]
async fn an_oversized_webhook_is_a_problem_like_any_other() {
    let app = TestApp::spawn().await;
    let res = app
        .client
        .post(app.url("/v1/payment-provider/webhooks"))
        .header("Content-Type", "application/json")
        .header("Leman-Signature", "t=1,v1=00")
        .body(vec![b' '; 1024 * 1024 + 1])
        .send()
        .await
        .unwrap();
    problem(res, 413, "payload_too_large").await;
}

#[tokio::test]
async fn an_awaited_bank_transfer_gives_way_and_its_late_money_goes_to_the_prepaid_account() {
    let app = billing_app().await;
    let (_, s) = app.signed_in("zoe@example.ch").await;
    let (org, visa) = app
        .an_org(&s)
        .named("Transfers")
        .with_card()
        .await
        .id_and_card();
    let domain = || json!([{"offer_id": "domain-ch", "billing_period": "P1Y", "domain_name": fresh_domain("ch")}]);
    let transfer_for = |order: &Value| {
        let invoice = order["invoice_id"].as_str().unwrap().to_string();
        let (app, s, org) = (&app, &s, &org);
        async move {
            let path = format!("/v1/orgs/{org}/invoices/{invoice}/payments");
            let transfer = ok(
                send(
                    app,
                    Method::POST,
                    &path,
                    s,
                    Some(json!({"method": "bank_transfer"})),
                )
                .await,
                202,
            )
            .await;
            (
                path,
                transfer["bank_transfer"]["reference"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            )
        }
    };
    let late = |event: &str, reference: &str| {
        app.webhook(
            json!({"id": event, "type": "payment.succeeded", "data": {"payment_reference": reference}}),
            chrono::Utc::now().timestamp(),
        )
    };
    let balance = || async {
        get_json(&app, &s, &format!("/v1/orgs/{org}/prepaid-account")).await["balance"]["amount"]
            .as_str()
            .unwrap()
            .to_string()
    };

    // Announced a transfer, then paid by card: the card goes through.
    let first = app.order(&s, &org, domain()).await;
    let (path, reference) = transfer_for(&first).await;
    let paid = ok(
        send(&app, Method::POST, &path, &s, Some(card(&visa))).await,
        201,
    )
    .await;
    assert_eq!(paid["status"], "succeeded");
    let total = paid["amount"]["amount"].as_str().unwrap().to_string();
    // The transfer arrives after all: credited to the prepaid account, once.
    assert_eq!(
        ok(late("evt_late_1", &reference).await, 200).await["applied"],
        true
    );
    assert_eq!(
        ok(late("evt_late_2", &reference).await, 200).await["applied"],
        false
    );
    assert_eq!(balance().await, total);

    // An order whose transfer never comes still expires.
    let second = app.order(&s, &org, domain()).await;
    let (_, reference) = transfer_for(&second).await;
    let expired = app
        .with_conn(|c| {
            leman::services::orders::expire_due(c, leman::db::now() + chrono::Duration::days(31))
                .unwrap()
        })
        .await;
    assert_eq!(expired, 1);
    let order = get_json(
        &app,
        &s,
        &format!("/v1/orgs/{org}/orders/{}", second["id"].as_str().unwrap()),
    )
    .await;
    assert_eq!(order["status"], "cancelled");
    ok(late("evt_late_3", &reference).await, 200).await;
    let twice: rust_decimal::Decimal =
        total.parse::<rust_decimal::Decimal>().unwrap() * rust_decimal::Decimal::TWO;
    assert_eq!(balance().await, twice.to_string());
    let (sum, stored) = ledger_sum_and_balance(&app, &org).await;
    assert_eq!(sum, stored);
}

#[tokio::test]
async fn a_deleted_organisation_with_a_billing_history_is_purged_after_its_retention() {
    let app = TestApp::spawn().await;
    let (_, s) = app.signed_in("zoe@example.ch").await;
    let (org, _) = app.funded_org(&s, "History", "100.00").await;
    ok(
        send(
            &app,
            Method::POST,
            &format!("/v1/orgs/{org}/prepaid-account/withdrawals"),
            &s,
            Some(json!({"amount": {"amount": "100.00", "currency": "CHF"}, "iban": "CH93 0076 2011 6238 5295 7"})),
        )
        .await,
        201,
    )
    .await;
    app.order(
        &s,
        &org,
        json!([{"offer_id": "domain-ch", "billing_period": "P1Y", "domain_name": fresh_domain("ch")}]),
    )
    .await;
    let later = leman::db::now() + chrono::Duration::days(31);
    app.with_conn(move |c| leman::services::orders::expire_due(c, later).unwrap())
        .await;
    assert_eq!(
        send(&app, Method::DELETE, &format!("/v1/orgs/{org}"), &s, None)
            .await
            .status(),
        204
    );
    let end = leman::db::now() + chrono::Duration::days(366 * 11);
    let purged = app
        .with_conn(move |c| leman::services::org_deletion::purge_due(c, end).unwrap())
        .await;
    assert_eq!(purged, 1);
    let id = org.clone();
    let left = app
        .with_conn(move |c| {
            use diesel::prelude::*;
            use leman::db::schema::{invoices, payment_methods, payments, prepaid_transactions};
            [
                invoices::table
                    .filter(invoices::organization_id.eq(&id))
                    .count()
                    .get_result::<i64>(c)
                    .unwrap(),
                payments::table
                    .filter(payments::organization_id.eq(&id))
                    .count()
                    .get_result::<i64>(c)
                    .unwrap(),
                payment_methods::table
                    .filter(payment_methods::organization_id.eq(&id))
                    .count()
                    .get_result::<i64>(c)
                    .unwrap(),
                prepaid_transactions::table
                    .filter(prepaid_transactions::organization_id.eq(&id))
                    .count()
                    .get_result::<i64>(c)
                    .unwrap(),
            ]
        })
        .await;
    assert_eq!(left, [0, 0, 0, 0]);
}

#[tokio::test]
async fn a_payment_the_provider_never_confirms_is_given_up_and_its_late_money_credited() {
    let app = billing_app().await;
    let (_, s) = app.signed_in("zoe@example.ch").await;
    let org = app.create_org(&s, "Unconfirmed").await;
    let slow = app
        .add_payment_method(&s, &org, json!({"type": "card", "token": "tok_visa_async"}))
        .await;
    let visa = app
        .add_payment_method(&s, &org, json!({"type": "card", "token": "tok_visa"}))
        .await;
    let order = app
        .order(
            &s,
            &org,
            json!([{"offer_id": "domain-ch", "billing_period": "P1Y", "domain_name": fresh_domain("ch")}]),
        )
        .await;
    let pay = format!(
        "/v1/orgs/{org}/orders/{}/payments",
        order["id"].as_str().unwrap()
    );
    let pending = ok(
        send(&app, Method::POST, &pay, &s, Some(card(&slow))).await,
        202,
    )
    .await;
    // Held while the provider confirms...
    problem(
        send(&app, Method::POST, &pay, &s, Some(card(&visa))).await,
        409,
        "payment_in_progress",
    )
    .await;
    // ...but not past LEMAN_PAYMENT_PENDING_DAYS.
    let config = app.services.config.clone();
    let given_up = app
        .with_conn(move |c| {
            let soon = leman::db::now() + chrono::Duration::days(1);
            let late = leman::db::now() + chrono::Duration::days(8);
            (
                leman::services::payments::expire_stale(c, &config, soon).unwrap(),
                leman::services::payments::expire_stale(c, &config, late).unwrap(),
            )
        })
        .await;
    assert_eq!(given_up, (0, 1));
    let paid = ok(
        send(&app, Method::POST, &pay, &s, Some(card(&visa))).await,
        201,
    )
    .await;
    assert_eq!(paid["status"], "succeeded");
    // The provider confirms the first charge after all: its money goes to the prepaid account.
    let event = json!({"id": "evt_unconfirmed", "type": "payment.succeeded",
        "data": {"payment_reference": sandbox_reference(pending["id"].as_str().unwrap())}});
    let ack = ok(
        app.webhook(event, chrono::Utc::now().timestamp()).await,
        200,
    )
    .await;
    assert_eq!(ack["applied"], true);
    let account = get_json(&app, &s, &format!("/v1/orgs/{org}/prepaid-account")).await;
    assert_eq!(account["balance"], paid["amount"]);
}
