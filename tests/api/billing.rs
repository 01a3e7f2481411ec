//! Billing (R23, R25, R29–R31): the catalogue, ordering, invoices and their numbers, paying by
//! card, by the prepaid account and through the provider's webhook, payment methods, expiry.

use futures_util::future::join_all;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::fresh_domain;
use crate::helpers::{
    TestApp, billing_app, card, field_of, get_json, ok, problem, sandbox_reference, send, statuses,
    unmet,
};

#[tokio::test]
async fn the_catalogue_is_public_with_prices_per_period_in_both_currencies() {
    let app = TestApp::spawn().await;
    let res = app.get("/v1/catalog/offers").await;
    let body: Value = ok(res, 200).await;
    let offers = body["data"].as_array().unwrap();
    let ch = offers.iter().find(|o| o["id"] == "domain-ch").unwrap();
    let periods: Vec<&str> = ch["prices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["billing_period"].as_str().unwrap())
        .collect();
    assert_eq!(periods.first(), Some(&"P1Y"));
    assert_eq!(periods.last(), Some(&"P10Y"));
    assert_eq!(
        ch["prices"][0]["prices"],
        json!([{"amount": "11.00", "currency": "CHF"}, {"amount": "10.45", "currency": "EUR"}])
    );
    assert!(
        offers
            .iter()
            .any(|o| o["kind"] == "ksuite" && !o["options"].as_array().unwrap().is_empty())
    );
}

#[tokio::test]
async fn an_order_issues_a_numbered_invoice_and_paying_by_card_provisions_it_the_invoice() {
    let app = billing_app().await;
    let (_, s) = app.signed_in("zoe@example.ch").await;
    let org = app.an_org(&s).named("Shop Sàrl").with_card().await.id;
    let order = app.order(&s, &org, shop_items()).await;
    assert_eq!(order["status"], "open");
    assert_eq!(order["products"].as_array().unwrap().len(), 2);
    assert!(
        order["products"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["status"] == "pending_payment")
    );
    let invoice_id = order["invoice_id"].as_str().unwrap();
    let invoice = ok(
        send(
            &app,
            Method::GET,
            &format!("/v1/orgs/{org}/invoices/{invoice_id}"),
            &s,
            None,
        )
        .await,
        200,
    )
    .await;
    let year = chrono::Utc::now().format("%Y").to_string();
    assert_eq!(invoice["number"], format!("{year}-000001"));
    assert_eq!(invoice["status"], "open");
    // Lines: the domain for two years, kSuite, and its users beyond those included.
    let lines = invoice["lines"].as_array().unwrap();
    assert!(lines.len() >= 3, "{invoice}");
    assert_eq!(lines[0]["description"], ".ch domain name (P2Y)");
    assert_eq!(
        lines[0]["unit_price"],
        json!({"amount": "22.00", "currency": "CHF"})
    );
    assert_eq!(lines[0]["vat_rate"], "8.1");
    assert_eq!(
        lines[0]["vat"],
        json!({"amount": "1.78", "currency": "CHF"})
    );
    // Totals are the sums of the lines, to the cent.
    let sum = |k: &str| -> rust_decimal::Decimal {
        lines
            .iter()
            .map(|l| {
                l[k]["amount"]
                    .as_str()
                    .unwrap()
                    .parse::<rust_decimal::Decimal>()
                    .unwrap()
            })
            .sum()
    };
    for (line_key, total_key) in [("net", "subtotal"), ("vat", "vat"), ("total", "total")] {
        assert_eq!(
            sum(line_key).to_string(),
            invoice[total_key]["amount"].as_str().unwrap()
        );
    }
}

/// A .ch domain for two years and kSuite for eight users for one.
fn shop_items() -> Value {
    json!([
        {"offer_id": "domain-ch", "billing_period": "P2Y", "domain_name": fresh_domain("ch")},
        {"offer_id": "ksuite-standard", "billing_period": "P1Y", "options": {"users": 8}}
    ])
}

#[tokio::test]
async fn an_order_issues_a_numbered_invoice_and_paying_by_card_provisions_it_paid_by_card() {
    let app = billing_app().await;
    let (user, s) = app.signed_in("zoe@example.ch").await;
    let shop = app
        .an_org(&s)
        .named("Shop Sàrl")
        .with_card()
        .with_open_invoice(shop_items())
        .await;
    let (org, visa, order) = (&shop.id, shop.card(), &shop.orders[0]);
    let invoice_id = shop.invoice(0);
    let invoice = get_json(&app, &s, &format!("/v1/orgs/{org}/invoices/{invoice_id}")).await;
    let year = chrono::Utc::now().format("%Y").to_string();

    let paid = ok(
        send(
            &app,
            Method::POST,
            &format!(
                "/v1/orgs/{org}/orders/{}/payments",
                order["id"].as_str().unwrap()
            ),
            &s,
            Some(card(visa)),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(paid["status"], "succeeded");
    assert_eq!(paid["amount"], invoice["total"]);
    let order = ok(
        send(
            &app,
            Method::GET,
            &format!("/v1/orgs/{org}/orders/{}", order["id"].as_str().unwrap()),
            &s,
            None,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(order["status"], "paid");
    for p in order["products"].as_array().unwrap() {
        // A domain is active once the registry confirmed it.
        let p = app
            .wait_until_provisioned(&s, org, p["id"].as_str().unwrap())
            .await;
        assert_eq!(p["status"], "active");
        assert!(p["expires_at"].is_string());
    }
    let invoice = ok(
        send(
            &app,
            Method::GET,
            &format!("/v1/orgs/{org}/invoices/{invoice_id}"),
            &s,
            None,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(invoice["status"], "paid");
    // Paying again is refused; the receipt is in the payer's language.
    problem(
        send(
            &app,
            Method::POST,
            &format!("/v1/orgs/{org}/invoices/{invoice_id}/payments"),
            &s,
            Some(card(visa)),
        )
        .await,
        409,
        "invoice_not_open",
    )
    .await;
    let mail = app
        .wait_for_mail_containing(&user.email, &format!("{year}-000001"))
        .await;
    assert!(mail.contains("CHF"), "{mail}");
    let products = ok(
        send(
            &app,
            Method::GET,
            &format!("/v1/orgs/{org}/products?kind=ksuite&status=active"),
            &s,
            None,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(products["data"][0]["options"], json!({"users": 8}));
    problem(
        send(
            &app,
            Method::GET,
            &format!("/v1/orgs/{org}/products?status=happy"),
            &s,
            None,
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
}

#[tokio::test]
async fn a_declined_card_leaves_the_invoice_open_and_nothing_provisioned() {
    let app = billing_app().await;
    let (_, s) = app.signed_in("zoe@example.ch").await;
    let org = app.create_org(&s, "Declined").await;
    for (token, code) in [
        ("tok_visa_decline", "card_declined"),
        ("tok_visa_insufficient_funds", "insufficient_funds"),
    ] {
        let bad = app
            .add_payment_method(&s, &org, json!({"type": "card", "token": token}))
            .await;
        let res = send(&app, Method::POST, &format!("/v1/orgs/{org}/orders"), &s, Some(json!({"items": [{"offer_id": "domain-ch", "billing_period": "P1Y", "domain_name": fresh_domain("ch")}], "payment": card(&bad)}))).await;
        let order = ok(res, 201).await;
        assert_eq!(order["status"], "open");
        assert_eq!(order["payment"]["status"], "failed");
        assert_eq!(order["payment"]["failure_code"], code);
        assert_eq!(order["products"][0]["status"], "pending_payment");
        let res = send(
            &app,
            Method::POST,
            &format!(
                "/v1/orgs/{org}/orders/{}/payments",
                order["id"].as_str().unwrap()
            ),
            &s,
            Some(card(&bad)),
        )
        .await;
        problem(res, 402, "payment_declined").await;
        let invoice = ok(
            send(
                &app,
                Method::GET,
                &format!(
                    "/v1/orgs/{org}/invoices/{}",
                    order["invoice_id"].as_str().unwrap()
                ),
                &s,
                None,
            )
            .await,
            200,
        )
        .await;
        assert_eq!(invoice["status"], "open");
    }
    // A payment method that does not exist is refused before anything is created.
    let res = send(&app, Method::POST, &format!("/v1/orgs/{org}/orders"), &s, Some(json!({"items": [{"offer_id": "domain-ch", "billing_period": "P1Y", "domain_name": fresh_domain("ch")}], "payment": card("pm_00000000000000000000000000000000")}))).await;
    problem(res, 422, "validation_failed").await;
    let orders = ok(
        send(
            &app,
            Method::GET,
            &format!("/v1/orgs/{org}/orders"),
            &s,
            None,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(orders["data"].as_array().unwrap().len(), 2);
    // Bad items: every one reported.
    let res = send(&app, Method::POST, &format!("/v1/orgs/{org}/orders"), &s, Some(json!({"items": [
        {"offer_id": "nope", "billing_period": "P1Y"},
        {"offer_id": "domain-ch", "billing_period": "P1M", "domain_name": fresh_domain("ch")},
        {"offer_id": "ksuite-standard", "billing_period": "P1Y", "options": {"users": -1, "cats": 2}}
    ]}))).await;
    let p = problem(res, 422, "validation_failed").await;
    let fields: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert!(
        fields.contains(&"/items/0/offer_id")
            && fields.contains(&"/items/1/billing_period")
            && fields.contains(&"/items/2/options/users")
            && fields.contains(&"/items/2/options/cats"),
        "{fields:?}"
    );
}

#[tokio::test]
async fn invoice_numbers_stay_gapless_and_unique_under_20_concurrent_orders() {
    let app = billing_app().await;
    let (_, s) = app.signed_in("zoe@example.ch").await;
    let org = app.create_org(&s, "Busy").await;
    let other = app.create_org(&s, "Busy too").await;
    let orders = (0..20).map(|i| {
        let (app, s) = (&app, &s);
        let org = if i % 2 == 0 {
            org.clone()
        } else {
            other.clone()
        };
        async move {
            let res = send(
                app,
                Method::POST,
                &format!("/v1/orgs/{org}/orders"),
                s,
                Some(json!({"items": [{"offer_id": "domain-ch", "billing_period": "P1Y", "domain_name": fresh_domain("ch")}]})),
            )
            .await;
            assert_eq!(res.status(), 201);
        }
    });
    join_all(orders).await;
    let mut numbers: Vec<String> = Vec::new();
    for o in [&org, &other] {
        let list = ok(
            send(
                &app,
                Method::GET,
                &format!("/v1/orgs/{o}/invoices?limit=100"),
                &s,
                None,
            )
            .await,
            200,
        )
        .await;
        numbers.extend(
            list["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["number"].as_str().unwrap().to_string()),
        );
    }
    numbers.sort();
    let year = chrono::Utc::now().format("%Y").to_string();
    let expected: Vec<String> = (1..=20).map(|n| format!("{year}-{n:06}")).collect();
    assert_eq!(numbers, expected);
}

#[tokio::test]
async fn twenty_concurrent_payments_of_one_invoice_charge_once() {
    let app = billing_app().await;
    let (_, s) = app.signed_in("zoe@example.ch").await;
    // By card, then from the prepaid account (topped up first).
    let (org, visa) = app.funded_org(&s, "Once", "500.00").await;
    for payment in [card(&visa), json!({"method": "prepaid"})] {
        let order = app
            .order(
                &s,
                &org,
                json!([{"offer_id": "domain-ch", "billing_period": "P1Y", "domain_name": fresh_domain("ch")}]),
            )
            .await;
        let invoice_id = order["invoice_id"].as_str().unwrap().to_string();
        let attempts = (0..20).map(|_| {
            let (app, s, org, invoice_id, payment) = (&app, &s, &org, &invoice_id, payment.clone());
            async move {
                send(
                    app,
                    Method::POST,
                    &format!("/v1/orgs/{org}/invoices/{invoice_id}/payments"),
                    s,
                    Some(payment),
                )
                .await
                .status()
                .as_u16()
            }
        });
        let statuses = join_all(attempts).await;
        assert_eq!(
            statuses.iter().filter(|s| **s == 201).count(),
            1,
            "{statuses:?}"
        );
        assert!(
            statuses.iter().all(|s| *s == 201 || *s == 409),
            "{statuses:?}"
        );
        let invoice = invoice_id.clone();
        let succeeded: i64 = app
            .with_conn(move |c| {
                use diesel::prelude::*;
                use leman::db::schema::payments as p;
                p::table
                    .filter(p::invoice_id.eq(invoice))
                    .filter(p::status.eq("succeeded"))
                    .count()
                    .get_result(c)
                    .unwrap()
            })
            .await;
        assert_eq!(succeeded, 1);
    }
    // The prepaid account paid exactly one invoice (11.00 + 8.1 % VAT = 11.89).
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
        json!({"amount": "488.11", "currency": "CHF"})
    );
}

#[tokio::test]
async fn the_webhook_settles_asynchronous_payments_once_and_only_when_signed_a_twint_payment() {
    let app = billing_app().await;
    let (_, s) = app.signed_in("zoe@example.ch").await;
    let org = app.create_org(&s, "Hooks").await;
    let twint = app
        .add_payment_method(&s, &org, json!({"type": "twint"}))
        .await;
    let order = app
        .order(
            &s,
            &org,
            json!([{"offer_id": "domain-ch", "billing_period": "P1Y", "domain_name": fresh_domain("ch")}]),
        )
        .await;
    let pending = ok(
        send(
            &app,
            Method::POST,
            &format!(
                "/v1/orgs/{org}/orders/{}/payments",
                order["id"].as_str().unwrap()
            ),
            &s,
            Some(card(&twint)),
        )
        .await,
        202,
    )
    .await;
    assert_eq!(pending["status"], "pending");
    let reference = sandbox_reference(pending["id"].as_str().unwrap());
    let event = json!({"id": "evt_1", "type": "payment.succeeded", "data": {"payment_reference": reference}});
    let now = chrono::Utc::now().timestamp();
    let order_path = format!("/v1/orgs/{org}/orders/{}", order["id"].as_str().unwrap());
    // A wrong signature, an old timestamp, no signature: 400, nothing changes.
    let body = serde_json::to_vec(&event).unwrap();
    let forged = app
        .client
        .post(app.url("/v1/payment-provider/webhooks"))
        .header("Content-Type", "application/json")
        .header(
            "Leman-Signature",
            format!(
                "t={now},v1={}",
                leman::services::webhooks::sign("whsec_wrong", now, &body)
            ),
        )
        .body(body.clone())
        .send()
        .await
        .unwrap();
    problem(forged, 400, "invalid_signature").await;
    problem(
        app.webhook(event.clone(), now - 301).await,
        400,
        "invalid_signature",
    )
    .await;
    let unsigned = app
        .client
        .post(app.url("/v1/payment-provider/webhooks"))
        .header("Content-Type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    problem(unsigned, 400, "invalid_signature").await;
    assert_eq!(field_of(&app, &s, &order_path, "status").await, "open");
    // Signed: applied once; the replay is acknowledged and ignored.
    let first = ok(app.webhook(event.clone(), now).await, 200).await;
    assert_eq!(first["applied"], true);
    assert_eq!(field_of(&app, &s, &order_path, "status").await, "paid");
    let replay = ok(app.webhook(event, now).await, 200).await;
    assert_eq!(replay["applied"], false);
    let paid = get_json(
        &app,
        &s,
        &format!("/v1/orgs/{org}/activities?action=invoice.paid"),
    )
    .await;
    assert_eq!(paid["data"].as_array().unwrap().len(), 1, "{paid}");
}

#[tokio::test]
async fn the_webhook_settles_asynchronous_payments_once_and_only_when_signed_a_bank_transfer() {
    let app = billing_app().await;
    let (_, s) = app.signed_in("zoe@example.ch").await;
    let org = app.an_org(&s).named("Hooks").await.id;
    let now = chrono::Utc::now().timestamp();
    // A bank transfer waits for the money, under the invoice's reference.
    let order = app
        .order(
            &s,
            &org,
            json!([{"offer_id": "domain-li", "billing_period": "P1Y", "domain_name": fresh_domain("li")}]),
        )
        .await;
    let transfer = ok(
        send(
            &app,
            Method::POST,
            &format!(
                "/v1/orgs/{org}/orders/{}/payments",
                order["id"].as_str().unwrap()
            ),
            &s,
            Some(json!({"method": "bank_transfer"})),
        )
        .await,
        202,
    )
    .await;
    let reference = transfer["bank_transfer"]["reference"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(reference.starts_with("LMN-"), "{transfer}");
    let failed = ok(app.webhook(json!({"id": "evt_2", "type": "payment.failed", "data": {"payment_reference": reference, "failure_code": "expired"}}), now).await, 200).await;
    assert_eq!(failed["applied"], true);
    let invoice = ok(
        send(
            &app,
            Method::GET,
            &format!(
                "/v1/orgs/{org}/invoices/{}",
                order["invoice_id"].as_str().unwrap()
            ),
            &s,
            None,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(invoice["status"], "open");
    // A failed transfer can be tried again, under a new reference.
    let again = ok(
        send(
            &app,
            Method::POST,
            &format!(
                "/v1/orgs/{org}/orders/{}/payments",
                order["id"].as_str().unwrap()
            ),
            &s,
            Some(json!({"method": "bank_transfer"})),
        )
        .await,
        202,
    )
    .await;
    assert_ne!(again["bank_transfer"]["reference"], reference.as_str());
}

#[tokio::test]
async fn r25_invoices_filter_by_status_and_period_newest_first() {
    let app = billing_app().await;
    let (_, s) = app.signed_in("zoe@example.ch").await;
    let domain = || json!([{"offer_id": "domain-ch", "billing_period": "P1Y", "domain_name": fresh_domain("ch")}]);
    let org = app
        .an_org(&s)
        .named("History")
        .with_product(domain())
        .with_product(domain())
        .with_open_invoice(domain())
        .await
        .id;
    // One invoice issued last year, cancelled.
    app.with_conn(|c| {
        use diesel::prelude::*;
        use leman::db::schema::invoices as i;
        let last: String = i::table
            .filter(i::status.eq("open"))
            .select(i::id)
            .first(c)
            .unwrap();
        diesel::update(i::table.find(last))
            .set((
                i::status.eq("cancelled"),
                i::issued_at.eq(leman::db::now() - chrono::Duration::days(400)),
            ))
            .execute(c)
            .unwrap();
    })
    .await;
    let base = format!("/v1/orgs/{org}/invoices");
    assert_eq!(
        statuses(&app, &s, &base).await,
        ["paid", "paid", "cancelled"]
    );
    assert_eq!(
        statuses(&app, &s, &format!("{base}?status=cancelled")).await,
        ["cancelled"]
    );
    assert_eq!(
        statuses(&app, &s, &format!("{base}?status=paid&status=cancelled"))
            .await
            .len(),
        3
    );
    assert!(
        statuses(&app, &s, &format!("{base}?status=refunded"))
            .await
            .is_empty()
    );
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    assert_eq!(
        statuses(&app, &s, &format!("{base}?from={today}")).await,
        ["paid", "paid"]
    );
    assert_eq!(
        statuses(
            &app,
            &s,
            &format!(
                "{base}?to={}",
                (chrono::Utc::now() - chrono::Duration::days(300)).format("%Y-%m-%d")
            )
        )
        .await,
        ["cancelled"]
    );
    // Pages follow each other without gaps.
    let first = get_json(&app, &s, &format!("{base}?limit=2")).await;
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = get_json(&app, &s, &format!("{base}?limit=2&cursor={cursor}")).await;
    assert_eq!(second["data"].as_array().unwrap().len(), 1);
    assert!(second["next_cursor"].is_null());
    problem(
        send(
            &app,
            Method::GET,
            &format!("/v1/orgs/{org}/invoices?status=lost"),
            &s,
            None,
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    problem(
        send(
            &app,
            Method::GET,
            &format!("/v1/orgs/{org}/invoices?from=yesterday"),
            &s,
            None,
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
}

#[tokio::test]
async fn an_unpaid_order_expires_with_its_invoice_which_keeps_its_number() {
    let app = TestApp::builder()
        .without_jobs()
        .env("LEMAN_ORDER_EXPIRY_DAYS", "1")
        .spawn()
        .await;
    let (_, s) = app.signed_in("zoe@example.ch").await;
    let org = app.create_org(&s, "Late").await;
    let order = app
        .order(
            &s,
            &org,
            json!([{"offer_id": "domain-ch", "billing_period": "P1Y", "domain_name": fresh_domain("ch")}]),
        )
        .await;
    let before = app
        .with_conn(|c| leman::services::orders::expire_due(c, leman::db::now()).unwrap())
        .await;
    assert_eq!(before, 0);
    let expired = app
        .with_conn(|c| {
            leman::services::orders::expire_due(c, leman::db::now() + chrono::Duration::days(2))
                .unwrap()
        })
        .await;
    assert_eq!(expired, 1);
    let order = ok(
        send(
            &app,
            Method::GET,
            &format!("/v1/orgs/{org}/orders/{}", order["id"].as_str().unwrap()),
            &s,
            None,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(order["status"], "cancelled");
    assert_eq!(order["products"][0]["status"], "cancelled");
    let invoice = ok(
        send(
            &app,
            Method::GET,
            &format!(
                "/v1/orgs/{org}/invoices/{}",
                order["invoice_id"].as_str().unwrap()
            ),
            &s,
            None,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(invoice["status"], "cancelled");
    assert!(invoice["number"].as_str().unwrap().ends_with("-000001"));
    // The next invoice takes the next number: none is reused.
    let next = app
        .order(
            &s,
            &org,
            json!([{"offer_id": "domain-ch", "billing_period": "P1Y", "domain_name": fresh_domain("ch")}]),
        )
        .await;
    let next = ok(
        send(
            &app,
            Method::GET,
            &format!(
                "/v1/orgs/{org}/invoices/{}",
                next["invoice_id"].as_str().unwrap()
            ),
            &s,
            None,
        )
        .await,
        200,
    )
    .await;
    assert!(next["number"].as_str().unwrap().ends_with("-000002"));
}

#[tokio::test]
async fn r29_payment_methods_keep_no_card_data_and_one_is_the_default() {
    let app = billing_app().await;
    let (_, s) = app.signed_in("zoe@example.ch").await;
    let org = app.create_org(&s, "Wallet").await;
    let path = format!("/v1/orgs/{org}/payment-methods");
    let visa = app
        .add_payment_method(&s, &org, json!({"type": "card", "token": "tok_visa"}))
        .await;
    app.add_payment_method(
        &s,
        &org,
        json!({"type": "bank_transfer", "iban": "ch93 0076 2011 6238 5295 7"}),
    )
    .await;
    let list = ok(send(&app, Method::GET, &path, &s, None).await, 200).await;
    let data = list["data"].as_array().unwrap();
    assert_eq!(data[0]["id"], "prepaid");
    assert_eq!(
        data[1]["card"],
        json!({"brand": "visa", "last4": "4242", "exp_month": 12, "exp_year": 2030})
    );
    assert_eq!(data[2]["iban"], "CH93 **** **** **** 5295 7");
    assert!(data.iter().all(|m| m["is_default"] == false));
    assert_eq!(
        send(
            &app,
            Method::POST,
            &format!("{path}/{visa}/default"),
            &s,
            None
        )
        .await
        .status(),
        204
    );
    assert_eq!(
        send(
            &app,
            Method::POST,
            &format!("{path}/prepaid/default"),
            &s,
            None
        )
        .await
        .status(),
        204
    );
    let list = ok(send(&app, Method::GET, &path, &s, None).await, 200).await;
    assert_eq!(list["data"][0]["is_default"], true);
    problem(
        send(&app, Method::DELETE, &format!("{path}/prepaid"), &s, None).await,
        409,
        "prepaid_not_deletable",
    )
    .await;
    assert_eq!(
        send(&app, Method::DELETE, &format!("{path}/{visa}"), &s, None)
            .await
            .status(),
        204
    );
    problem(
        send(&app, Method::DELETE, &format!("{path}/{visa}"), &s, None).await,
        404,
        "not_found",
    )
    .await;
    // Card data is refused wherever it is; bad tokens and IBANs are named.
    for body in [
        json!({"type": "card", "token": "tok_visa", "card_number": "4242424242424242"}),
        json!({"type": "card", "token": "4242 4242 4242 4242"}),
        json!({"type": "twint", "label": "my card 5555555555554444"}),
        json!({"type": "card", "token": "tok_visa", "cvc": "123"}),
    ] {
        problem(
            send(&app, Method::POST, &path, &s, Some(body)).await,
            422,
            "card_data_not_accepted",
        )
        .await;
    }
    let p = problem(
        send(
            &app,
            Method::POST,
            &path,
            &s,
            Some(json!({"type": "card", "token": "tok_unknown"})),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(p["errors"][0]["code"], "invalid_card_token");
    let p = problem(
        send(
            &app,
            Method::POST,
            &path,
            &s,
            Some(json!({"type": "bank_transfer", "iban": "CH93 0076 2011 6238 5295 8"})),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(p["errors"][0]["code"], "invalid_iban");
}

#[tokio::test]
async fn the_currency_must_be_the_organisations_and_locks_once_billed() {
    let app = billing_app().await;
    let (_, s) = app.signed_in("zoe@example.ch").await;
    let (org, visa) = app
        .an_org(&s)
        .named("Francs")
        .with_card()
        .await
        .id_and_card();
    let res = send(
        &app,
        Method::POST,
        &format!("/v1/orgs/{org}/prepaid-account/top-ups"),
        &s,
        Some(json!({"amount": {"amount": "50.00", "currency": "EUR"}, "payment_method_id": visa})),
    )
    .await;
    problem(res, 422, "currency_mismatch").await;
    // Before anything is billed it can change; after, not.
    ok(
        send(
            &app,
            Method::PATCH,
            &format!("/v1/orgs/{org}"),
            &s,
            Some(json!({"currency": "EUR"})),
        )
        .await,
        200,
    )
    .await;
    ok(
        send(
            &app,
            Method::PATCH,
            &format!("/v1/orgs/{org}"),
            &s,
            Some(json!({"currency": "CHF"})),
        )
        .await,
        200,
    )
    .await;
    app.order(
        &s,
        &org,
        json!([{"offer_id": "domain-ch", "billing_period": "P1Y", "domain_name": fresh_domain("ch")}]),
    )
    .await;
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
    // EUR organisations are invoiced in EUR, abroad without Swiss VAT.
    let eu = {
        let res = send(&app, Method::POST, "/v1/orgs", &s, Some(json!({"name": "Paris SAS", "country": "FR", "currency": "EUR", "billing_address": {"line1": "1 rue de la Paix", "postal_code": "75002", "city": "Paris"}}))).await;
        ok(res, 201).await["id"].as_str().unwrap().to_string()
    };
    let order = app
        .order(
            &s,
            &eu,
            json!([{"offer_id": "domain-ch", "billing_period": "P1Y", "domain_name": fresh_domain("ch")}]),
        )
        .await;
    assert_eq!(
        order["total"],
        json!({"amount": "10.45", "currency": "EUR"})
    );
}

#[tokio::test]
async fn r22_products_unpaid_invoices_and_prepaid_money_each_block_deleting_the_organisation() {
    let app = billing_app().await;
    let (_, s) = app.signed_in("zoe@example.ch").await;

    // An open order: its product and its invoice.
    let a = app.create_org(&s, "A").await;
    app.order(
        &s,
        &a,
        json!([{"offer_id": "domain-ch", "billing_period": "P1Y", "domain_name": fresh_domain("ch")}]),
    )
    .await;
    assert_eq!(unmet(&app, &s, &a).await, ["products", "open_invoices"]);
    // A paid order: the product alone.
    let (b, visa) = app.an_org(&s).named("B").with_card().await.id_and_card();
    let order = app
        .order(
            &s,
            &b,
            json!([{"offer_id": "domain-ch", "billing_period": "P1Y", "domain_name": fresh_domain("ch")}]),
        )
        .await;
    ok(
        send(
            &app,
            Method::POST,
            &format!(
                "/v1/orgs/{b}/orders/{}/payments",
                order["id"].as_str().unwrap()
            ),
            &s,
            Some(card(&visa)),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(unmet(&app, &s, &b).await, ["products"]);
    // Prepaid money alone; withdrawn, the organisation can go.
    let (c, _) = app.funded_org(&s, "C", "25.00").await;
    assert_eq!(unmet(&app, &s, &c).await, ["prepaid_balance"]);
    ok(send(&app, Method::POST, &format!("/v1/orgs/{c}/prepaid-account/withdrawals"), &s, Some(json!({"amount": {"amount": "25.00", "currency": "CHF"}, "iban": "CH93 0076 2011 6238 5295 7"}))).await, 201).await;
    assert!(unmet(&app, &s, &c).await.is_empty());
    assert_eq!(
        send(&app, Method::DELETE, &format!("/v1/orgs/{c}"), &s, None)
            .await
            .status(),
        204
    );
}
