//! Pro forma invoices made on request (R28, issue 13 part 3): products or offers priced as a
//! renewal or an order would price them, numbered `PF-YYYY-NNNNNN` outside the invoice
//! sequence, of no legal value; making one orders, renews and numbers nothing else.

use chrono::Datelike;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{
    TestApp, TestSession, billing_app, fresh_domain, get_json, ok, problem, send, send_with,
};

fn pf(seq: u32) -> String {
    format!("PF-{}-{seq:06}", chrono::Utc::now().year())
}

async fn create(app: &TestApp, s: &TestSession, org: &str, body: Value) -> reqwest::Response {
    send(
        app,
        Method::POST,
        &format!("/v1/orgs/{org}/pro-forma-invoices"),
        s,
        Some(body),
    )
    .await
}

/// The invoice number after `n` (`2026-000041` → `2026-000042`).
fn after(n: &str) -> String {
    let (year, seq) = n.split_once('-').unwrap();
    format!("{year}-{:06}", seq.parse::<u32>().unwrap() + 1)
}

async fn orders_of(app: &TestApp, s: &TestSession, org: &str) -> usize {
    get_json(app, s, &format!("/v1/orgs/{org}/orders")).await["data"]
        .as_array()
        .unwrap()
        .len()
}

#[tokio::test]
async fn r28_a_pro_forma_for_offers_is_priced_as_their_order_and_numbers_no_invoice() {
    let app = billing_app().await;
    let (_, s) = app.signed_in("pia@example.ch").await;
    let org = app.create_org(&s, "Devis Sàrl").await;
    let items = json!([
        {"offer_id": "ksuite-pro", "billing_period": "P1Y", "options": {"users": 25}},
        {"offer_id": "web-hosting-starter", "billing_period": "P1M"}
    ]);
    // An invoice first, to see the sequence go on after the pro forma.
    let first = app
        .order(
            &s,
            &org,
            json!([{"offer_id": "web-hosting-starter", "billing_period": "P1M"}]),
        )
        .await;
    let first_number = get_json(
        &app,
        &s,
        &format!(
            "/v1/orgs/{org}/invoices/{}",
            first["invoice_id"].as_str().unwrap()
        ),
    )
    .await["number"]
        .as_str()
        .unwrap()
        .to_string();
    let orders_before = orders_of(&app, &s, &org).await;

    let res = create(&app, &s, &org, json!({ "items": items })).await;
    assert_eq!(res.status(), 201);
    let location = res.headers()["location"].to_str().unwrap().to_string();
    let pro_forma: Value = res.json().await.unwrap();
    let id = pro_forma["id"].as_str().unwrap();
    assert!(id.starts_with("pf_"));
    assert_eq!(location, format!("/v1/orgs/{org}/pro-forma-invoices/{id}"));
    assert_eq!(pro_forma["number"], pf(1));
    assert_eq!(pro_forma["legal_value"], false);
    assert!(
        pro_forma["note"]
            .as_str()
            .unwrap()
            .contains("no legal, tax or accounting value")
    );
    assert_eq!(pro_forma["status"], "awaiting_transfer");
    assert_eq!(pro_forma["renewals"], json!([]));
    assert_eq!(pro_forma["payment"], Value::Null);
    assert_eq!(pro_forma["order_id"], Value::Null);
    assert_eq!(pro_forma["invoice_id"], Value::Null);
    assert!(
        pro_forma["bank_transfer"]["reference"]
            .as_str()
            .unwrap()
            .contains(&pf(1))
    );
    // Shown again at its address.
    assert_eq!(get_json(&app, &s, &location).await, pro_forma);
    // No order was made, and no invoice number used.
    assert_eq!(orders_of(&app, &s, &org).await, orders_before);

    // The same items ordered: the same lines, VAT and totals, on the next invoice number.
    let order = app.order(&s, &org, items).await;
    let invoice = get_json(
        &app,
        &s,
        &format!(
            "/v1/orgs/{org}/invoices/{}",
            order["invoice_id"].as_str().unwrap()
        ),
    )
    .await;
    assert_eq!(invoice["number"], after(&first_number));
    for field in ["subtotal", "vat", "total"] {
        assert_eq!(pro_forma[field], invoice[field], "{field}");
    }
    let pf_lines = pro_forma["lines"].as_array().unwrap();
    let inv_lines = invoice["lines"].as_array().unwrap();
    // kSuite Pro and its 5 extra users, then the hosting.
    assert_eq!(pf_lines.len(), 3);
    assert_eq!(pf_lines.len(), inv_lines.len());
    for (p, i) in pf_lines.iter().zip(inv_lines) {
        for field in [
            "description",
            "quantity",
            "unit_price",
            "vat_rate",
            "net",
            "vat",
            "total",
        ] {
            assert_eq!(p[field], i[field], "{field}");
        }
        assert_eq!(p["product_id"], Value::Null);
    }
    assert_eq!(pf_lines[0]["billing_period"], "P1Y");
    assert_eq!(pf_lines[2]["billing_period"], "P1M");
    assert_eq!(pf_lines[1]["quantity"], 5);
    // The pro forma stays unlinked: it was a quote.
    let again = get_json(&app, &s, &location).await;
    assert_eq!(again["order_id"], Value::Null);
}

#[tokio::test]
async fn r28_a_pro_forma_for_a_product_prices_its_next_term_and_renews_nothing() {
    let app = billing_app().await;
    let (_, s) = app.signed_in("pia@example.ch").await;
    let org = app
        .an_org(&s)
        .with_product(
            json!([{"offer_id": "web-hosting-starter", "billing_period": "P1Y"},
            {"offer_id": "domain-ch", "billing_period": "P1Y", "domain_name": fresh_domain("ch")}]),
        )
        .await;
    let hosting = org.orders[0]["products"][0]["id"].as_str().unwrap();
    let domain = org.orders[0]["products"][1]["id"].as_str().unwrap();
    let product = get_json(&app, &s, &format!("/v1/orgs/{}/products/{hosting}", org.id)).await;

    let res = create(
        &app,
        &s,
        &org.id,
        json!({"items": [{"product_id": hosting}, {"product_id": domain, "billing_period": "P2Y"}]}),
    )
    .await;
    let pro_forma = ok(res, 201).await;
    let lines = pro_forma["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["product_id"], hosting);
    assert_eq!(lines[0]["billing_period"], "P1Y");
    // The term starts at the product's expiry, at today's price, with 8.1 % VAT.
    assert_eq!(lines[0]["period_start"], product["expires_at"]);
    assert_eq!(lines[0]["net"]["amount"], "59.00");
    assert_eq!(lines[0]["vat"]["amount"], "4.78");
    assert_eq!(lines[1]["billing_period"], "P2Y");
    assert_eq!(lines[1]["net"]["amount"], "22.00");
    assert_eq!(pro_forma["subtotal"]["amount"], "81.00");
    assert_eq!(pro_forma["total"]["amount"], "87.56");

    // Nothing was renewed: the same products can be renewed at once, for the same totals.
    let renewed = ok(
        send(
            &app,
            Method::POST,
            &format!("/v1/orgs/{}/renewals", org.id),
            &s,
            Some(
                json!({"items": [{"product_id": hosting, "billing_period": "P1Y"},
                {"product_id": domain, "billing_period": "P2Y"}]}),
            ),
        )
        .await,
        201,
    )
    .await;
    let invoice = get_json(
        &app,
        &s,
        &format!(
            "/v1/orgs/{}/invoices/{}",
            org.id,
            renewed["invoice_id"].as_str().unwrap()
        ),
    )
    .await;
    for field in ["subtotal", "vat", "total"] {
        assert_eq!(pro_forma[field], invoice[field], "{field}");
    }
    // While that renewal awaits payment, a pro forma of the product is refused (already ordered).
    let res = create(
        &app,
        &s,
        &org.id,
        json!({"items": [{"product_id": hosting}]}),
    )
    .await;
    let p = problem(res, 422, "validation_failed").await;
    assert_eq!(p["errors"][0]["field"], "/items/0/product_id");
    assert_eq!(p["errors"][0]["code"], "renewal_pending");
}

#[tokio::test]
async fn r28_invalid_items_are_refused_with_their_pointer_and_nothing_is_numbered() {
    let app = billing_app().await;
    let (_, s) = app.signed_in("pia@example.ch").await;
    let org = app.create_org(&s, "Strict Sàrl").await;
    let theirs = {
        let (_, t) = app.signed_in("tom@example.ch").await;
        let o = app
            .an_org(&t)
            .with_product(json!([{"offer_id": "web-hosting-starter", "billing_period": "P1M"}]))
            .await;
        o.orders[0]["products"][0]["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let ok_item = json!({"offer_id": "web-hosting-starter", "billing_period": "P1M"});
    let too_many: Vec<Value> = (0..51).map(|_| ok_item.clone()).collect();
    let cases = [
        (json!({"items": []}), "/items", "out_of_range"),
        (json!({ "items": too_many }), "/items", "out_of_range"),
        (
            json!({"items": [ok_item, {"offer_id": "ksuite-pro", "product_id": theirs, "billing_period": "P1Y"}]}),
            "/items/1",
            "product_or_offer",
        ),
        (
            json!({"items": [{"billing_period": "P1Y"}]}),
            "/items/0",
            "product_or_offer",
        ),
        (
            json!({"items": [{"offer_id": "no-such-offer", "billing_period": "P1Y"}]}),
            "/items/0/offer_id",
            "unknown_offer",
        ),
        (
            json!({"items": [{"offer_id": "ksuite-pro"}]}),
            "/items/0/billing_period",
            "required",
        ),
        (
            json!({"items": [{"offer_id": "ssl-dv", "billing_period": "P1M"}]}),
            "/items/0/billing_period",
            "period_not_offered",
        ),
        (
            json!({"items": [{"offer_id": "ksuite-pro", "billing_period": "P1Y", "options": {"users": 1}}]}),
            "/items/0/options/users",
            "out_of_range",
        ),
        (
            json!({"items": [{"offer_id": "ksuite-pro", "billing_period": "P1Y", "options": {"seats": 30}}]}),
            "/items/0/options/seats",
            "unknown_option",
        ),
        (
            json!({"items": [ok_item, {"product_id": theirs}]}),
            "/items/1/product_id",
            "unknown_product",
        ),
        (
            json!({"items": [{"product_id": "prd_x\u{0}"}]}),
            "/items/0/product_id",
            "invalid_characters",
        ),
        (
            json!({"items": [{"product_id": "prd_x"}]}),
            "/items/0/product_id",
            "unknown_product",
        ),
        (
            json!({"items": [{"product_id": "prd_01936d7a6b2f7c3e9d4a5b6c7d8e9f10", "options": {"users": 25}}]}),
            "/items/0/options",
            "not_allowed",
        ),
    ];
    for (body, field, code) in cases {
        let res = create(&app, &s, &org, body.clone()).await;
        let p = problem(res, 422, "validation_failed").await;
        assert!(
            p["errors"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["field"] == field && e["code"] == code),
            "{body} → {p}"
        );
    }
    // Unknown fields are refused like everywhere.
    let res = create(
        &app,
        &s,
        &org,
        json!({"items": [ok_item], "payment": {"method": "prepaid"}}),
    )
    .await;
    problem(res, 422, "validation_failed").await;
    // None of these used a number: the first pro forma made is the first.
    let made = ok(
        create(&app, &s, &org, json!({"items": [ok_item]})).await,
        201,
    )
    .await;
    assert_eq!(made["number"], pf(1));
}

#[tokio::test]
async fn r28_a_replayed_request_gives_the_same_pro_forma() {
    let app = billing_app().await;
    let (_, s) = app.signed_in("pia@example.ch").await;
    let org = app.create_org(&s, "Replay Sàrl").await;
    let path = format!("/v1/orgs/{org}/pro-forma-invoices");
    let body = json!({"items": [{"offer_id": "web-hosting-starter", "billing_period": "P1Y"}]});
    let key = [("Idempotency-Key", "pf-once")];
    let first = ok(
        send_with(&app, Method::POST, &path, &s, Some(body.clone()), &key).await,
        201,
    )
    .await;
    let replay = ok(
        send_with(&app, Method::POST, &path, &s, Some(body.clone()), &key).await,
        201,
    )
    .await;
    assert_eq!(first["id"], replay["id"]);
    assert_eq!(first["number"], pf(1));
    // The same key with another body is refused; a new request gets the next number.
    let other = json!({"items": [{"offer_id": "web-hosting-starter", "billing_period": "P1M"}]});
    let res = send_with(&app, Method::POST, &path, &s, Some(other.clone()), &key).await;
    problem(res, 422, "idempotency_key_reused").await;
    let next = ok(create(&app, &s, &org, other).await, 201).await;
    assert_eq!(next["number"], pf(2));
    // One activity record per pro forma made.
    let actions = app.activities_of_org(&org).await;
    assert_eq!(
        actions.iter().filter(|a| *a == "pro_forma.created").count(),
        2,
        "{actions:?}"
    );
}

#[tokio::test]
async fn r28_making_a_pro_forma_needs_accounting_and_billing_write() {
    let app = billing_app().await;
    let (_, s) = app.signed_in("pia@example.ch").await;
    let (member, member_s) = app.signed_in("max@example.ch").await;
    let (accountant, accountant_s) = app.signed_in("ada@example.ch").await;
    let org = app
        .an_org(&s)
        .with_member(&member, "member", &["products"])
        .with_member(&accountant, "member", &["accounting"])
        .await;
    let body = json!({"items": [{"offer_id": "web-hosting-starter", "billing_period": "P1M"}]});
    problem(
        create(&app, &member_s, &org.id, body.clone()).await,
        403,
        "permission_denied",
    )
    .await;
    let (_, stranger) = app.signed_in("sam@example.ch").await;
    problem(
        create(&app, &stranger, &org.id, body.clone()).await,
        404,
        "not_found",
    )
    .await;
    // A token that only reads billing cannot make one.
    let read_only = app
        .token_of_kind(&accountant.id, "personal", &["billing:read"])
        .await;
    let res = send(
        &app,
        Method::POST,
        &format!("/v1/orgs/{}/pro-forma-invoices", org.id),
        &read_only,
        Some(body.clone()),
    )
    .await;
    problem(res, 403, "insufficient_scope").await;
    let made = ok(create(&app, &accountant_s, &org.id, body).await, 201).await;
    // The member without `accounting` cannot read it either; another organisation's id is 404.
    let id = made["id"].as_str().unwrap();
    let path = format!("/v1/orgs/{}/pro-forma-invoices/{id}", org.id);
    problem(
        send(&app, Method::GET, &path, &member_s, None).await,
        403,
        "permission_denied",
    )
    .await;
    let other = app.create_org(&accountant_s, "Mine").await;
    problem(
        send(
            &app,
            Method::GET,
            &format!("/v1/orgs/{other}/pro-forma-invoices/{id}"),
            &accountant_s,
            None,
        )
        .await,
        404,
        "not_found",
    )
    .await;
}
