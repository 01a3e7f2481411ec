//! Renewals (issue 11, R31, R33–R36): the renewals list, several products renewed on one order
//! and one invoice (each line from the product's expiry), multi-year terms within the horizon,
//! the period chosen per item taking effect once paid, pro formas for bank transfers, and every
//! term extended exactly once however it is paid (twice, replayed, retried, raced).

use chrono::{DateTime, Months, NaiveDateTime, Utc};
use diesel::prelude::*;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::fresh_domain;
use crate::helpers::{TestApp, TestOrg, billing_app, card, get_json, ok, problem, send, send_with};

fn at(v: &Value) -> NaiveDateTime {
    v.as_str()
        .unwrap()
        .parse::<DateTime<Utc>>()
        .unwrap()
        .naive_utc()
}

/// The product ids of the fixture's orders, in order.
fn products_of(org: &TestOrg) -> Vec<String> {
    org.orders
        .iter()
        .flat_map(|o| o["products"].as_array().unwrap().clone())
        .map(|p| p["id"].as_str().unwrap().to_string())
        .collect()
}

async fn product(app: &TestApp, s: &crate::helpers::TestSession, org: &str, id: &str) -> Value {
    get_json(app, s, &format!("/v1/orgs/{org}/products/{id}")).await
}

async fn expiry(
    app: &TestApp,
    s: &crate::helpers::TestSession,
    org: &str,
    id: &str,
) -> NaiveDateTime {
    at(&product(app, s, org, id).await["expires_at"])
}

async fn renew(
    app: &TestApp,
    s: &crate::helpers::TestSession,
    org: &str,
    body: Value,
) -> reqwest::Response {
    send(
        app,
        Method::POST,
        &format!("/v1/orgs/{org}/renewals"),
        s,
        Some(body),
    )
    .await
}

async fn set_product(app: &TestApp, id: &str, expires_at: NaiveDateTime, status: &str) {
    let (id, status) = (id.to_string(), status.to_string());
    app.with_conn(move |c| {
        use leman::db::schema::products;
        diesel::update(products::table.find(&id))
            .set((
                products::expires_at.eq(Some(expires_at)),
                products::status.eq(&status),
            ))
            .execute(c)
            .unwrap()
    })
    .await;
}

async fn invoice_count(app: &TestApp, org: &str) -> i64 {
    let org = org.to_string();
    app.with_conn(move |c| {
        use leman::db::schema::invoices;
        invoices::table
            .filter(invoices::organization_id.eq(&org))
            .count()
            .get_result::<i64>(c)
            .unwrap()
    })
    .await
}

fn codes_at(problem: &Value) -> Vec<(String, String)> {
    problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["field"].as_str().unwrap().to_string(),
                e["code"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn months(t: NaiveDateTime, n: u32) -> NaiveDateTime {
    t.checked_add_months(Months::new(n)).unwrap()
}

#[tokio::test]
async fn rn_r34_a_grouped_renewal_is_one_invoice_with_each_line_from_its_product_expiry() {
    let app = billing_app().await;
    let (_, s) = app.signed_in("rn1@example.ch").await;
    let org = app
        .an_org(&s)
        .with_product(json!([{"offer_id": "domain-ch", "billing_period": "P1Y", "domain_name": fresh_domain("ch")},
            {"offer_id": "web-hosting-starter", "billing_period": "P1Y"}]))
        .await;
    let ids = products_of(&org);
    let (domain, hosting) = (&ids[0], &ids[1]);
    // The two terms end on different days.
    let soon = leman::db::now() + chrono::Duration::days(20);
    set_product(&app, hosting, soon, "active").await;
    let domain_end = expiry(&app, &s, &org.id, domain).await;
    let order = ok(
        renew(
            &app,
            &s,
            &org.id,
            json!({"items": [{"product_id": domain, "billing_period": "P2Y"},
                {"product_id": hosting, "billing_period": "P1Y"}]}),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(order["status"], "open");
    assert_eq!(order["products"].as_array().unwrap().len(), 2, "{order}");
    let terms = order["renewals"].as_array().unwrap();
    assert_eq!(terms.len(), 2);
    let invoice = get_json(
        &app,
        &s,
        &format!(
            "/v1/orgs/{}/invoices/{}",
            org.id,
            order["invoice_id"].as_str().unwrap()
        ),
    )
    .await;
    let lines = invoice["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 2, "{invoice}");
    let line = |p: &str| lines.iter().find(|l| l["product_id"] == p).unwrap().clone();
    let (d, h) = (line(domain), line(hosting));
    assert_eq!(at(&d["period_start"]), domain_end);
    assert_eq!(at(&d["period_end"]), months(domain_end, 24));
    assert_eq!(at(&h["period_start"]), soon);
    assert_eq!(at(&h["period_end"]), months(soon, 12));
    assert_eq!(invoice["total"], order["total"]);
    // Paid: each product runs from its own expiry for its own period, and shows it.
    let pay = format!(
        "/v1/orgs/{}/orders/{}/payments",
        org.id,
        order["id"].as_str().unwrap()
    );
    ok(
        send(&app, Method::POST, &pay, &s, Some(card(org.card()))).await,
        201,
    )
    .await;
    let d = product(&app, &s, &org.id, domain).await;
    assert_eq!(at(&d["expires_at"]), months(domain_end, 24));
    assert_eq!(d["billing_period"], "P2Y");
    assert_eq!(expiry(&app, &s, &org.id, hosting).await, months(soon, 12));
    let order = get_json(
        &app,
        &s,
        &format!(
            "/v1/orgs/{}/orders/{}",
            org.id,
            order["id"].as_str().unwrap()
        ),
    )
    .await;
    assert_eq!(order["status"], "paid");
    // The order shows the products it renewed and their terms, applied.
    assert_eq!(order["products"].as_array().unwrap().len(), 2, "{order}");
    let terms = order["renewals"].as_array().unwrap();
    assert!(
        terms.len() == 2 && terms.iter().all(|t| t["status"] == "applied"),
        "{order}"
    );
}

#[tokio::test]
async fn r35_multi_year_renewals_run_to_the_horizon_and_no_further() {
    let app = billing_app().await;
    let (_, s) = app.signed_in("rn2@example.ch").await;
    let org = app
        .an_org(&s)
        .with_product(json!([{"offer_id": "domain-ch", "billing_period": "P1Y", "domain_name": fresh_domain("ch")}]))
        .await;
    let domain = &products_of(&org)[0];
    // A fresh .ch domain runs a year: ten more would pass the ten years of registration.
    let list = get_json(&app, &s, &format!("/v1/orgs/{}/renewals?all=true", org.id)).await;
    let item = &list["data"][0];
    let periods: Vec<&str> = item["periods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["billing_period"].as_str().unwrap())
        .collect();
    assert!(
        periods.contains(&"P9Y") && !periods.contains(&"P10Y"),
        "{item}"
    );
    let body = problem(
        renew(
            &app,
            &s,
            &org.id,
            json!({"items": [{"product_id": domain, "billing_period": "P10Y"}]}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(
        codes_at(&body),
        vec![(
            "/items/0/billing_period".to_string(),
            "beyond_renewal_horizon".to_string()
        )]
    );
    let before = expiry(&app, &s, &org.id, domain).await;
    let order = ok(
        renew(
            &app,
            &s,
            &org.id,
            json!({"items": [{"product_id": domain, "billing_period": "P5Y"}], "payment": card(org.card())}),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(order["status"], "paid", "{order}");
    assert_eq!(expiry(&app, &s, &org.id, domain).await, months(before, 60));
}

#[tokio::test]
async fn rn_items_of_another_org_cancelled_duplicated_or_unoffered_are_refused_with_pointers() {
    let app = billing_app().await;
    let (_, s) = app.signed_in("rn3@example.ch").await;
    let org = app
        .an_org(&s)
        .with_product(json!([{"offer_id": "domain-ch", "billing_period": "P1Y", "domain_name": fresh_domain("ch")},
            {"offer_id": "domain-li", "billing_period": "P1Y", "domain_name": fresh_domain("li")}]))
        .await;
    let other = app
        .an_org(&s)
        .named("Other")
        .with_product(json!([{"offer_id": "domain-ch", "billing_period": "P1Y", "domain_name": fresh_domain("ch")}]))
        .await;
    let ids = products_of(&org);
    let theirs = &products_of(&other)[0];
    let end = expiry(&app, &s, &org.id, &ids[1]).await;
    set_product(&app, &ids[1], end, "cancelled").await;
    let body = problem(
        renew(
            &app,
            &s,
            &org.id,
            json!({"items": [
                {"product_id": ids[0], "billing_period": "P1Y"},
                {"product_id": theirs, "billing_period": "P1Y"},
                {"product_id": ids[1], "billing_period": "P1Y"},
                {"product_id": ids[0], "billing_period": "P2Y"},
                {"product_id": "prd_nope", "billing_period": "P1Y"},
            ]}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    let pair = |f: &str, c: &str| (f.to_string(), c.to_string());
    assert_eq!(
        codes_at(&body),
        vec![
            pair("/items/1/product_id", "unknown_product"),
            pair("/items/2/product_id", "product_not_renewable"),
            pair("/items/3/product_id", "duplicate_item"),
            pair("/items/4/product_id", "unknown_product"),
        ]
    );
    let body = problem(
        renew(
            &app,
            &s,
            &org.id,
            json!({"items": [{"product_id": ids[0], "billing_period": "P1M"}]}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(
        codes_at(&body),
        vec![pair("/items/0/billing_period", "period_not_offered")]
    );
    let body = problem(
        renew(&app, &s, &org.id, json!({"items": []})).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(codes_at(&body), vec![pair("/items", "out_of_range")]);
    // Nothing was created by the refusals.
    assert_eq!(invoice_count(&app, &org.id).await, 1);
}

#[tokio::test]
async fn r31_a_renewal_is_paid_from_the_prepaid_account_or_refused_whole_when_short() {
    let app = billing_app().await;
    let (_, s) = app.signed_in("rn4@example.ch").await;
    let org = app
        .an_org(&s)
        .funded("20.00")
        .with_product(json!([{"offer_id": "domain-ch", "billing_period": "P1Y", "domain_name": fresh_domain("ch")}]))
        .await;
    let domain = &products_of(&org)[0];
    let before = expiry(&app, &s, &org.id, domain).await;
    let invoices = invoice_count(&app, &org.id).await;
    // Ten years' worth is more than the balance: nothing is created, no number used.
    problem(
        renew(
            &app,
            &s,
            &org.id,
            json!({"items": [{"product_id": domain, "billing_period": "P8Y"}], "payment": {"method": "prepaid"}}),
        )
        .await,
        402,
        "insufficient_prepaid_balance",
    )
    .await;
    assert_eq!(invoice_count(&app, &org.id).await, invoices);
    let order = ok(
        renew(
            &app,
            &s,
            &org.id,
            json!({"items": [{"product_id": domain, "billing_period": "P1Y"}], "payment": {"method": "prepaid"}}),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(order["status"], "paid", "{order}");
    assert_eq!(order["payment"]["method"], "prepaid");
    assert_eq!(expiry(&app, &s, &org.id, domain).await, months(before, 12));
    let account = get_json(&app, &s, &format!("/v1/orgs/{}/prepaid-account", org.id)).await;
    let left: f64 = account["balance"]["amount"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let paid: f64 = order["total"]["amount"].as_str().unwrap().parse().unwrap();
    assert!((left - (20.0 - paid)).abs() < 0.001, "{account}");
}

#[tokio::test]
async fn r34_a_bank_transfer_gets_a_pro_forma_then_the_invoice_when_the_money_arrives() {
    let app = billing_app().await;
    let (_, s) = app.signed_in("rn5@example.ch").await;
    let org = app
        .an_org(&s)
        .with_product(json!([{"offer_id": "domain-ch", "billing_period": "P1Y", "domain_name": fresh_domain("ch")},
            {"offer_id": "web-hosting-starter", "billing_period": "P1Y"}]))
        .await;
    let ids = products_of(&org);
    let first_invoice = get_json(
        &app,
        &s,
        &format!("/v1/orgs/{}/invoices/{}", org.id, org.invoice(0)),
    )
    .await;
    let before: Vec<NaiveDateTime> = [
        expiry(&app, &s, &org.id, &ids[0]).await,
        expiry(&app, &s, &org.id, &ids[1]).await,
    ]
    .to_vec();
    let pf = ok(
        renew(
            &app,
            &s,
            &org.id,
            json!({"items": [{"product_id": ids[0], "billing_period": "P3Y"},
                {"product_id": ids[1], "billing_period": "P1Y"}], "payment": {"method": "bank_transfer"}}),
        )
        .await,
        202,
    )
    .await;
    let year = chrono::Datelike::year(&leman::db::now());
    assert!(
        pf["number"]
            .as_str()
            .unwrap()
            .starts_with(&format!("PF-{year}-")),
        "{pf}"
    );
    assert_eq!(pf["legal_value"], false);
    assert!(
        pf["note"]
            .as_str()
            .unwrap()
            .contains("no legal, tax or accounting value")
    );
    assert_eq!(pf["status"], "awaiting_transfer");
    assert_eq!(pf["invoice_id"], Value::Null);
    let lines = pf["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["billing_period"], "P3Y");
    assert_eq!(at(&lines[0]["period_start"]), before[0]);
    let reference = pf["bank_transfer"]["reference"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        pf["payment"]["bank_transfer"]["reference"],
        reference.as_str()
    );
    // No invoice, so no invoice number, until the money arrives.
    assert_eq!(invoice_count(&app, &org.id).await, 1);
    let path = format!(
        "/v1/orgs/{}/pro-forma-invoices/{}",
        org.id,
        pf["id"].as_str().unwrap()
    );
    assert_eq!(get_json(&app, &s, &path).await["number"], pf["number"]);
    // Another renewal of the same product waits for this one.
    let body = problem(
        renew(
            &app,
            &s,
            &org.id,
            json!({"items": [{"product_id": ids[0], "billing_period": "P1Y"}]}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(codes_at(&body)[0].1, "renewal_pending");
    let listed = get_json(&app, &s, &format!("/v1/orgs/{}/renewals?all=true", org.id)).await;
    let pending = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["product"]["id"] == ids[0].as_str())
        .unwrap()["pending_renewal"]
        .clone();
    assert_eq!(pending["pro_forma_id"], pf["id"]);
    assert_eq!(pending["billing_period"], "P3Y");

    let now = chrono::Utc::now().timestamp();
    let event = |id: &str| json!({"id": id, "type": "payment.succeeded", "data": {"payment_reference": reference}});
    let res = ok(app.webhook(event("evt_rn5_1"), now).await, 200).await;
    assert_eq!(res["applied"], true, "{res}");
    let pf = get_json(&app, &s, &path).await;
    assert_eq!(pf["status"], "paid");
    let invoice = get_json(
        &app,
        &s,
        &format!(
            "/v1/orgs/{}/invoices/{}",
            org.id,
            pf["invoice_id"].as_str().unwrap()
        ),
    )
    .await;
    assert_eq!(invoice["status"], "paid");
    assert_eq!(invoice["total"], pf["total"]);
    assert_eq!(invoice["lines"].as_array().unwrap().len(), 2);
    // The invoice takes the next number: the sequence has no gap.
    let seq = |n: &Value| {
        n.as_str()
            .unwrap()
            .rsplit('-')
            .next()
            .unwrap()
            .parse::<i64>()
            .unwrap()
    };
    assert_eq!(
        seq(&invoice["number"]),
        seq(&first_invoice["number"]) + 1,
        "{invoice}"
    );
    let order = get_json(
        &app,
        &s,
        &format!(
            "/v1/orgs/{}/orders/{}",
            org.id,
            pf["order_id"].as_str().unwrap()
        ),
    )
    .await;
    assert_eq!(order["status"], "paid");
    assert_eq!(
        expiry(&app, &s, &org.id, &ids[0]).await,
        months(before[0], 36)
    );
    assert_eq!(
        expiry(&app, &s, &org.id, &ids[1]).await,
        months(before[1], 12)
    );
    // The event replayed, or delivered again under another id: extended once.
    ok(app.webhook(event("evt_rn5_1"), now).await, 200).await;
    let again = ok(app.webhook(event("evt_rn5_2"), now).await, 200).await;
    assert_eq!(again["applied"], false, "{again}");
    assert_eq!(
        expiry(&app, &s, &org.id, &ids[0]).await,
        months(before[0], 36)
    );
    assert_eq!(invoice_count(&app, &org.id).await, 2);
    assert_eq!(
        product(&app, &s, &org.id, &ids[0]).await["billing_period"],
        "P3Y"
    );
}

#[tokio::test]
async fn rn_an_unpaid_pro_forma_lapses_its_renewals_and_late_money_goes_to_the_prepaid_account() {
    let app = billing_app().await;
    let (_, s) = app.signed_in("rn6@example.ch").await;
    let org = app
        .an_org(&s)
        .with_product(json!([{"offer_id": "domain-ch", "billing_period": "P1Y", "domain_name": fresh_domain("ch")},
            {"offer_id": "domain-li", "billing_period": "P1Y", "domain_name": fresh_domain("li")}]))
        .await;
    let domain = &products_of(&org)[0];
    let before = expiry(&app, &s, &org.id, domain).await;
    let pf = ok(
        renew(
            &app,
            &s,
            &org.id,
            json!({"items": [{"product_id": domain, "billing_period": "P2Y"}], "payment": {"method": "bank_transfer"}}),
        )
        .await,
        202,
    )
    .await;
    let reference = pf["bank_transfer"]["reference"]
        .as_str()
        .unwrap()
        .to_string();
    // Another product's transfer fails: its pro forma lapses too, in its time.
    let li = products_of(&org)[1].clone();
    let failed = ok(
        renew(
            &app,
            &s,
            &org.id,
            json!({"items": [{"product_id": li, "billing_period": "P1Y"}], "payment": {"method": "bank_transfer"}}),
        )
        .await,
        202,
    )
    .await;
    let now = chrono::Utc::now().timestamp();
    let failed_reference = failed["bank_transfer"]["reference"].as_str().unwrap();
    ok(app.webhook(json!({"id": "evt_rn6_failed", "type": "payment.failed", "data": {"payment_reference": failed_reference}}), now).await, 200).await;
    // Not yet due: nothing lapses; then both, once.
    let lapse = |days: i64| {
        let at = leman::db::now() + chrono::Duration::days(days);
        app.with_conn(move |c| leman::services::renewals::lapse_pro_formas(c, at).unwrap())
    };
    assert_eq!(lapse(29).await, 0);
    assert_eq!(lapse(31).await, 2);
    assert_eq!(lapse(31).await, 0);
    let path = format!(
        "/v1/orgs/{}/pro-forma-invoices/{}",
        org.id,
        pf["id"].as_str().unwrap()
    );
    let shown = get_json(&app, &s, &path).await;
    assert_eq!(shown["status"], "lapsed", "{shown}");
    assert_eq!(shown["renewals"][0]["status"], "voided");
    // The money arrives after all: credited, the product unchanged.
    let res = ok(app.webhook(json!({"id": "evt_rn6", "type": "payment.succeeded", "data": {"payment_reference": reference}}), now).await, 200).await;
    assert_eq!(res["applied"], true);
    assert_eq!(expiry(&app, &s, &org.id, domain).await, before);
    let account = get_json(&app, &s, &format!("/v1/orgs/{}/prepaid-account", org.id)).await;
    assert_eq!(account["balance"], pf["total"], "{account}");
    assert_eq!(invoice_count(&app, &org.id).await, 1);
    // And the product can be renewed again, paid with that money.
    let order = ok(
        renew(
            &app,
            &s,
            &org.id,
            json!({"items": [{"product_id": domain, "billing_period": "P2Y"}], "payment": {"method": "prepaid"}}),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(order["status"], "paid");
    assert_eq!(expiry(&app, &s, &org.id, domain).await, months(before, 24));
    // So can the product whose transfer failed.
    let body = json!({"items": [{"product_id": li, "billing_period": "P1Y"}]});
    ok(renew(&app, &s, &org.id, body).await, 201).await;
}

#[tokio::test]
async fn r33_the_list_shows_the_next_two_months_by_default_and_everything_with_all() {
    let app = billing_app().await;
    let (_, s) = app.signed_in("rn7@example.ch").await;
    let org = app
        .an_org(&s)
        .with_product(json!([{"offer_id": "domain-ch", "billing_period": "P1Y", "domain_name": fresh_domain("ch")},
            {"offer_id": "web-hosting-starter", "billing_period": "P1Y"},
            {"offer_id": "mail-starter", "billing_period": "P1Y"},
            {"offer_id": "domain-li", "billing_period": "P1Y", "domain_name": fresh_domain("li")}]))
        .await;
    let ids = products_of(&org);
    let now = leman::db::now();
    // Due in 40 days, expired 5 days ago (still renewable), a year away, cancelled.
    set_product(&app, &ids[0], now + chrono::Duration::days(40), "active").await;
    set_product(&app, &ids[1], now - chrono::Duration::days(5), "expired").await;
    set_product(&app, &ids[3], now + chrono::Duration::days(10), "cancelled").await;
    let list = |q: &'static str| {
        let (app, s, org) = (&app, &s, org.id.clone());
        async move {
            let v = get_json(app, s, &format!("/v1/orgs/{org}/renewals{q}")).await;
            let ids: Vec<String> = v["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["product"]["id"].as_str().unwrap().to_string())
                .collect();
            (ids, v)
        }
    };
    let (due, body) = list("").await;
    assert_eq!(due, vec![ids[1].clone(), ids[0].clone()], "{body}");
    let expired = &body["data"][0];
    assert_eq!(expired["product"]["status"], "expired");
    assert_eq!(expired["billing_period"], "P1Y");
    assert!(expired["auto_renew"].is_boolean());
    assert!(expired["latest_renewal_date"].is_string());
    assert_eq!(expired["pending_renewal"], Value::Null);
    let p1y = expired["periods"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["billing_period"] == "P1Y")
        .unwrap();
    assert!(p1y["price"]["amount"].is_string() && p1y["renews_to"].is_string());
    // Hosting can change to monthly from its term's end; the mail offer's one month is below
    // its minimum.
    assert_eq!(expired["monthly"]["possible"], true);
    assert!(expired["monthly"]["from"].is_string());
    let (all, body) = list("?all=true").await;
    assert_eq!(all, vec![ids[1].clone(), ids[0].clone(), ids[2].clone()]);
    let mail = &body["data"][2];
    assert_eq!(mail["monthly"]["possible"], false, "{mail}");
    assert!(
        !mail["periods"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["billing_period"] == "P1M")
    );
    let (domains, _) = list("?all=true&kind=domain").await;
    assert_eq!(domains, vec![ids[0].clone()]);
    let (two, _) = list("?all=true&kind=domain&kind=mail").await;
    assert_eq!(two, vec![ids[0].clone(), ids[2].clone()]);
    // Keyset pages, one at a time.
    let mut seen = vec![];
    let mut path = format!("/v1/orgs/{}/renewals?all=true&limit=1", org.id);
    loop {
        let page = get_json(&app, &s, &path).await;
        assert!(page["data"].as_array().unwrap().len() <= 1);
        for i in page["data"].as_array().unwrap() {
            seen.push(i["product"]["id"].as_str().unwrap().to_string());
        }
        match page["next_cursor"].as_str() {
            Some(c) => path = format!("/v1/orgs/{}/renewals?all=true&limit=1&cursor={c}", org.id),
            None => break,
        }
    }
    assert_eq!(seen, all);
    problem(
        send(
            &app,
            Method::GET,
            &format!("/v1/orgs/{}/renewals?all=maybe", org.id),
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
async fn r36_the_period_chosen_applies_once_paid_and_an_unpaid_order_changes_nothing() {
    let app = billing_app().await;
    let (_, s) = app.signed_in("rn8@example.ch").await;
    let org = app
        .an_org(&s)
        .with_product(json!([{"offer_id": "web-hosting-starter", "billing_period": "P1Y"}]))
        .await;
    let hosting = &products_of(&org)[0];
    let before = expiry(&app, &s, &org.id, hosting).await;
    let order = ok(
        renew(
            &app,
            &s,
            &org.id,
            json!({"items": [{"product_id": hosting, "billing_period": "P3M"}]}),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(order["renewals"][0]["billing_period"], "P3M");
    assert_eq!(order["renewals"][0]["status"], "pending");
    // Ordered, not paid: the product keeps its period and term.
    let p = product(&app, &s, &org.id, hosting).await;
    assert_eq!(
        (p["billing_period"].as_str(), at(&p["expires_at"])),
        (Some("P1Y"), before)
    );
    // The order lapses: the renewal is voided, the product unchanged, and renewable again.
    let later = leman::db::now() + chrono::Duration::days(31);
    let expired = app
        .with_conn(move |c| leman::services::orders::expire_due(c, later).unwrap())
        .await;
    assert_eq!(expired, 1);
    let p = product(&app, &s, &org.id, hosting).await;
    assert_eq!(
        (p["billing_period"].as_str(), at(&p["expires_at"])),
        (Some("P1Y"), before)
    );
    let list = get_json(&app, &s, &format!("/v1/orgs/{}/renewals?all=true", org.id)).await;
    assert_eq!(list["data"][0]["pending_renewal"], Value::Null);
    let order = ok(
        renew(
            &app,
            &s,
            &org.id,
            json!({"items": [{"product_id": hosting, "billing_period": "P3M"}], "payment": card(org.card())}),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(order["status"], "paid");
    assert_eq!(order["renewals"][0]["status"], "applied");
    let p = product(&app, &s, &org.id, hosting).await;
    assert_eq!(p["billing_period"], "P3M");
    assert_eq!(at(&p["expires_at"]), months(before, 3));
}

#[tokio::test]
async fn rn_a_renewal_paid_twice_at_once_retried_or_raced_extends_once() {
    let app = billing_app().await;
    let (_, s) = app.signed_in("rn9@example.ch").await;
    let org = app
        .an_org(&s)
        .funded("100.00")
        .with_product(json!([{"offer_id": "domain-ch", "billing_period": "P1Y", "domain_name": fresh_domain("ch")},
            {"offer_id": "domain-li", "billing_period": "P1Y", "domain_name": fresh_domain("li")}]))
        .await;
    let ids = products_of(&org);
    let before = expiry(&app, &s, &org.id, &ids[0]).await;
    // Two concurrent payments of one renewal order: one pays, the other is refused.
    let order = ok(
        renew(
            &app,
            &s,
            &org.id,
            json!({"items": [{"product_id": ids[0], "billing_period": "P1Y"}]}),
        )
        .await,
        201,
    )
    .await;
    let pay = format!(
        "/v1/orgs/{}/orders/{}/payments",
        org.id,
        order["id"].as_str().unwrap()
    );
    let (a, b) = tokio::join!(
        send(&app, Method::POST, &pay, &s, Some(card(org.card()))),
        send(
            &app,
            Method::POST,
            &pay,
            &s,
            Some(json!({"method": "prepaid"}))
        ),
    );
    let mut statuses = [a.status().as_u16(), b.status().as_u16()];
    statuses.sort();
    assert_eq!(statuses, [201, 409]);
    assert_eq!(expiry(&app, &s, &org.id, &ids[0]).await, months(before, 12));

    // A retry with the same Idempotency-Key replays the first answer: one order, one term.
    let body = json!({"items": [{"product_id": ids[0], "billing_period": "P1Y"}], "payment": {"method": "prepaid"}});
    let path = format!("/v1/orgs/{}/renewals", org.id);
    let key = [("Idempotency-Key", "rn9-renew-1")];
    let first = ok(
        send_with(&app, Method::POST, &path, &s, Some(body.clone()), &key).await,
        201,
    )
    .await;
    let res = send_with(&app, Method::POST, &path, &s, Some(body), &key).await;
    assert_eq!(res.headers().get("idempotent-replayed").unwrap(), "true");
    assert_eq!(ok(res, 201).await["id"], first["id"]);
    assert_eq!(expiry(&app, &s, &org.id, &ids[0]).await, months(before, 24));

    // Two concurrent renewals of the same product: one order, the other refused.
    let body = json!({"items": [{"product_id": ids[1], "billing_period": "P1Y"}]});
    let before = expiry(&app, &s, &org.id, &ids[1]).await;
    let (a, b) = tokio::join!(
        renew(&app, &s, &org.id, body.clone()),
        renew(&app, &s, &org.id, body.clone()),
    );
    let mut statuses = [a.status().as_u16(), b.status().as_u16()];
    statuses.sort();
    assert!(
        statuses == [201, 409] || statuses == [201, 422],
        "{statuses:?}"
    );
    let pending = {
        let id = ids[1].clone();
        app.with_conn(move |c| leman::models::renewals::pending_of_products(c, &[id]).unwrap())
            .await
    };
    assert_eq!(pending.len(), 1);
    // Paid, then the same renewal applied again (a replayed settlement): nothing moves twice.
    let order_id = pending[0].order_id.clone().unwrap();
    let pay = format!("/v1/orgs/{}/orders/{order_id}/payments", org.id);
    ok(
        send(
            &app,
            Method::POST,
            &pay,
            &s,
            Some(json!({"method": "prepaid"})),
        )
        .await,
        201,
    )
    .await;
    let again = app
        .with_conn(move |c| {
            let r = leman::models::renewals::of_order(c, &order_id).unwrap();
            leman::models::renewals::apply(c, &r[0], leman::db::now()).unwrap()
        })
        .await;
    assert_eq!(again, leman::models::renewals::Applied::AlreadySettled);
    assert_eq!(expiry(&app, &s, &org.id, &ids[1]).await, months(before, 12));
}

#[tokio::test]
async fn rn_members_without_accounting_cannot_see_or_renew() {
    let app = billing_app().await;
    let (_, s) = app.signed_in("rn10@example.ch").await;
    let (clerk, cs) = app.signed_in("rn10-clerk@example.ch").await;
    let org = app
        .an_org(&s)
        .with_member(&clerk, "member", &["products"])
        .with_product(json!([{"offer_id": "domain-ch", "billing_period": "P1Y", "domain_name": fresh_domain("ch")}]))
        .await;
    let domain = &products_of(&org)[0];
    let pf = ok(
        renew(
            &app,
            &s,
            &org.id,
            json!({"items": [{"product_id": domain, "billing_period": "P1Y"}], "payment": {"method": "bank_transfer"}}),
        )
        .await,
        202,
    )
    .await;
    let base = format!("/v1/orgs/{}", org.id);
    for (method, path, body) in [
        (Method::GET, format!("{base}/renewals"), None),
        (
            Method::POST,
            format!("{base}/renewals"),
            Some(json!({"items": [{"product_id": domain, "billing_period": "P1Y"}]})),
        ),
        (
            Method::GET,
            format!("{base}/pro-forma-invoices/{}", pf["id"].as_str().unwrap()),
            None,
        ),
    ] {
        problem(
            send(&app, method, &path, &cs, body).await,
            403,
            "permission_denied",
        )
        .await;
    }
    // Another organisation's pro forma is not found.
    let other = app.an_org(&s).named("Other").await;
    problem(
        send(
            &app,
            Method::GET,
            &format!(
                "/v1/orgs/{}/pro-forma-invoices/{}",
                other.id,
                pf["id"].as_str().unwrap()
            ),
            &s,
            None,
        )
        .await,
        404,
        "not_found",
    )
    .await;
}
