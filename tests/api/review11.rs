//! Review of issue 11 (renewals, upgrades, moves, cancellations, pro formas): each test here
//! proves a hole found by the review; it FAILS while the hole is open.

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use diesel::prelude::*;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::fresh_domain;
use crate::helpers::{TestApp, TestSession, billing_app, card, get_json, ok, problem, send};

fn at(v: &Value) -> NaiveDateTime {
    v.as_str()
        .unwrap()
        .parse::<DateTime<Utc>>()
        .unwrap()
        .naive_utc()
}

fn first_product(org: &crate::helpers::TestOrg) -> String {
    org.orders[0]["products"][0]["id"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn product(app: &TestApp, s: &TestSession, org: &str, id: &str) -> Value {
    get_json(app, s, &format!("/v1/orgs/{org}/products/{id}")).await
}

async fn set_expiry(app: &TestApp, id: &str, at: NaiveDateTime) {
    let id = id.to_string();
    app.with_conn(move |c| {
        use leman::db::schema::products as p;
        diesel::update(p::table.find(id))
            .set(p::expires_at.eq(Some(at)))
            .execute(c)
            .unwrap();
    })
    .await;
}

async fn renew(app: &TestApp, s: &TestSession, org: &str, body: Value) -> reqwest::Response {
    send(
        app,
        Method::POST,
        &format!("/v1/orgs/{org}/renewals"),
        s,
        Some(body),
    )
    .await
}

async fn patch(
    app: &TestApp,
    s: &TestSession,
    org: &str,
    id: &str,
    body: Value,
) -> reqwest::Response {
    send(
        app,
        Method::PATCH,
        &format!("/v1/orgs/{org}/products/{id}"),
        s,
        Some(body),
    )
    .await
}

async fn pay_order(
    app: &TestApp,
    s: &TestSession,
    org: &str,
    order: &str,
    card_id: &str,
) -> reqwest::Response {
    send(
        app,
        Method::POST,
        &format!("/v1/orgs/{org}/orders/{order}/payments"),
        s,
        Some(card(card_id)),
    )
    .await
}

async fn invoice_net(app: &TestApp, s: &TestSession, org: &str, invoice: &str) -> f64 {
    let inv = get_json(app, s, &format!("/v1/orgs/{org}/invoices/{invoice}")).await;
    inv["subtotal"]["amount"]
        .as_str()
        .or(inv["net"]["amount"].as_str())
        .map(|a| a.parse().unwrap())
        .unwrap_or_else(|| {
            inv["lines"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| l["net"]["amount"].as_str().unwrap().parse::<f64>().unwrap())
                .sum()
        })
}

/// An upgrade paid while a renewal (ordered before the upgrade was paid) is pending is undone
/// when the renewal is paid: `renewals::apply` writes the renewal's stale options (and price)
/// over the paid upgrade, mid-term. (Paid the other way round, the renewed year runs with the
/// upgraded options at the old price.) Nothing refuses a renewal while an upgrade is pending,
/// nor an upgrade while a renewal is pending.
#[tokio::test]
async fn review11_a_renewal_waits_for_a_pending_upgrade_and_keeps_it_once_paid() {
    let app = billing_app().await;
    let (_, s) = app.signed_in("rv1@example.ch").await;
    let org = app
        .an_org(&s)
        .with_product(json!([{"offer_id": "cloud-server-s", "billing_period": "P1Y"}]))
        .await;
    let id = first_product(&org);
    set_expiry(&app, &id, leman::db::now() + Duration::days(100)).await;

    // An upgrade to 4 vCPUs waits for payment: a renewal now is refused, naming why…
    let upgrade = ok(
        patch(&app, &s, &org.id, &id, json!({"options": {"vcpu": 4}})).await,
        202,
    )
    .await;
    let body = json!({"items": [{"product_id": id, "billing_period": "P1Y"}]});
    let refused = problem(
        renew(&app, &s, &org.id, body.clone()).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(refused["errors"][0]["code"], "change_pending");
    // …and once the upgrade is paid, the renewal is priced and applied with 4 vCPUs.
    let pay = pay_order(
        &app,
        &s,
        &org.id,
        upgrade["id"].as_str().unwrap(),
        org.card(),
    )
    .await;
    ok(pay, 201).await;
    let renewal = ok(renew(&app, &s, &org.id, body).await, 201).await;
    // An upgrade while that renewal waits is refused in turn.
    problem(
        patch(&app, &s, &org.id, &id, json!({"options": {"vcpu": 6}})).await,
        409,
        "renewal_pending",
    )
    .await;
    let pay = pay_order(
        &app,
        &s,
        &org.id,
        renewal["id"].as_str().unwrap(),
        org.card(),
    )
    .await;
    ok(pay, 201).await;
    let p = product(&app, &s, &org.id, &id).await;
    assert_eq!(p["options"]["vcpu"], 4, "{p}");
    // 350.00 + 2 × the vCPU's yearly price for the renewed year.
    let net = invoice_net(&app, &s, &org.id, renewal["invoice_id"].as_str().unwrap()).await;
    assert!(net > 350.0, "the renewal priced the upgrade: {net}");
}

/// Paying a renewal applies its billing period (and options) at once, mid-term; an upgrade
/// ordered afterwards is prorated over the *new* period (1 month) and capped at one period, so
/// upgrading a yearly product with ~300 days left costs one month's difference.
#[tokio::test]
async fn review11_an_upgrade_after_an_early_monthly_renewal_pays_every_remaining_day() {
    let app = billing_app().await;
    let (_, s) = app.signed_in("rv2@example.ch").await;
    let org = app
        .an_org(&s)
        .with_product(json!([{"offer_id": "cloud-server-s", "billing_period": "P1Y"}]))
        .await;
    let id = first_product(&org);
    let end = leman::db::now() + Duration::days(300);
    set_expiry(&app, &id, end).await;

    // Renewed one month ahead, paid at once (35.00).
    let renewed = ok(
        renew(
            &app,
            &s,
            &org.id,
            json!({"items": [{"product_id": id, "billing_period": "P1M"}], "payment": card(org.card())}),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(renewed["status"], "paid");
    let p = product(&app, &s, &org.id, &id).await;
    // The product already bills monthly, though ~300 days of its yearly term remain.
    let period_now = p["billing_period"].clone();

    // Two more vCPUs for the ~330 days left: fairly about 2 × 80.00 × 300/365 + 2 × 8.00.
    let order = ok(
        patch(&app, &s, &org.id, &id, json!({"options": {"vcpu": 4}})).await,
        202,
    )
    .await;
    let net = invoice_net(&app, &s, &org.id, order["invoice_id"].as_str().unwrap()).await;
    assert!(
        net >= 100.0,
        "two vCPUs for ~330 days cost {net:.2} (billing period now {period_now}, expires {})",
        at(&p["expires_at"])
    );
}

/// A renewal ordered before the product is cancelled stays payable: paying it charges the
/// customer and moves the cancelled product's expiry (its status stays `cancelled`). Neither the
/// cancellation voids the pending renewal nor does the payment (or `renewals::apply`) look at
/// the product's status.
#[tokio::test]
async fn review11_a_product_whose_renewal_awaits_payment_cannot_be_cancelled() {
    let app = billing_app().await;
    let (_, s) = app.signed_in("a_product_whose@example.ch").await;
    let org = app
        .an_org(&s)
        .with_product(json!([{"offer_id": "domain-ch", "billing_period": "P1Y", "domain_name": fresh_domain("ch")}]))
        .await;
    let id = first_product(&org);
    let before = at(&product(&app, &s, &org.id, &id).await["expires_at"]);
    let order = ok(
        renew(
            &app,
            &s,
            &org.id,
            json!({"items": [{"product_id": id, "billing_period": "P1Y"}]}),
        )
        .await,
        201,
    )
    .await;
    let path = format!("/v1/orgs/{}/products/{id}/cancellation", org.id);
    let asked = send(&app, Method::POST, &path, &s, Some(json!({"when": "now"}))).await;
    problem(asked, 409, "renewal_pending").await;
    // Paying the renewal still works and the product runs on; nothing was cancelled.
    let res = pay_order(&app, &s, &org.id, order["id"].as_str().unwrap(), org.card()).await;
    ok(res, 201).await;
    let p = product(&app, &s, &org.id, &id).await;
    assert_eq!(p["status"], "active");
    assert!(at(&p["expires_at"]) > before);
}

#[tokio::test]
async fn review11_a_renewal_awaiting_payment_blocks_a_cancellation_at_term_end() {
    let app = billing_app().await;
    let (_, s) = app.signed_in("a_renewal_await@example.ch").await;
    let org = app
        .an_org(&s)
        .with_product(json!([{"offer_id": "domain-ch", "billing_period": "P1Y", "domain_name": fresh_domain("ch")}]))
        .await;
    let id = first_product(&org);
    let before = at(&product(&app, &s, &org.id, &id).await["expires_at"]);
    let order = ok(
        renew(
            &app,
            &s,
            &org.id,
            json!({"items": [{"product_id": id, "billing_period": "P1Y"}]}),
        )
        .await,
        201,
    )
    .await;
    let path = format!("/v1/orgs/{}/products/{id}/cancellation", org.id);
    let asked = send(
        &app,
        Method::POST,
        &path,
        &s,
        Some(json!({"when": "end_of_term"})),
    )
    .await;
    problem(asked, 409, "renewal_pending").await;
    // Paying the renewal still works and the product runs on; nothing was cancelled.
    let res = pay_order(&app, &s, &org.id, order["id"].as_str().unwrap(), org.card()).await;
    ok(res, 201).await;
    let p = product(&app, &s, &org.id, &id).await;
    assert_eq!(p["status"], "active");
    assert!(at(&p["expires_at"]) > before);
}

#[tokio::test]
async fn review11_a_product_awaiting_its_pro_forma_transfer_cannot_be_cancelled() {
    let app = billing_app().await;
    let (owner, s) = app.signed_in("rv5@example.ch").await;
    let org = app
        .an_org(&s)
        .with_product(json!([{"offer_id": "domain-ch", "billing_period": "P1Y", "domain_name": fresh_domain("ch")}]))
        .await;
    let id = first_product(&org);
    let before = at(&product(&app, &s, &org.id, &id).await["expires_at"]);
    let pf = ok(
        renew(
            &app,
            &s,
            &org.id,
            json!({"items": [{"product_id": id, "billing_period": "P1Y"}], "payment": {"method": "bank_transfer"}}),
        )
        .await,
        202,
    )
    .await;
    let reference = pf["bank_transfer"]["reference"]
        .as_str()
        .unwrap()
        .to_string();
    // Cancelling is refused while the transfer is awaited…
    let _ = &owner;
    let path = format!("/v1/orgs/{}/products/{id}/cancellation", org.id);
    let asked = send(&app, Method::POST, &path, &s, Some(json!({"when": "now"}))).await;
    problem(asked, 409, "renewal_pending").await;
    // …and the money, when it arrives, renews the running product once.
    let event = json!({"id": "evt_rv5", "type": "payment.succeeded", "data": {"payment_reference": reference}});
    ok(
        app.webhook(event.clone(), Utc::now().timestamp()).await,
        200,
    )
    .await;
    ok(app.webhook(event, Utc::now().timestamp()).await, 200).await;
    let p = product(&app, &s, &org.id, &id).await;
    assert_eq!(p["status"], "active");
    assert_eq!(at(&p["expires_at"]), before + chrono::Months::new(12));
}

/// A suspended product (renewable) renewed for one month from its old expiry, 40 days ago:
/// the customer pays for a month that is already over, the product is `active` with an expiry
/// in the past, and the next expiry pass suspends it again at once.
#[tokio::test]
async fn review11_a_suspended_product_cannot_be_renewed_for_a_term_already_over() {
    let app = billing_app().await;
    let (_, s) = app.signed_in("rv6@example.ch").await;
    let org = app
        .an_org(&s)
        .with_product(json!([{"offer_id": "web-hosting-starter", "billing_period": "P1M"}]))
        .await;
    let id = first_product(&org);
    let old = leman::db::now() - Duration::days(40);
    {
        let id = id.clone();
        app.with_conn(move |c| {
            use leman::db::schema::products as p;
            diesel::update(p::table.find(id))
                .set((p::expires_at.eq(Some(old)), p::status.eq("suspended")))
                .execute(c)
                .unwrap();
        })
        .await;
    }
    let res = renew(
        &app,
        &s,
        &org.id,
        json!({"items": [{"product_id": id, "billing_period": "P1M"}], "payment": card(org.card())}),
    )
    .await;
    let status = res.status().as_u16();
    let body: Value = res.json().await.unwrap();
    let p = product(&app, &s, &org.id, &id).await;
    assert!(
        status >= 400 || at(&p["expires_at"]) > leman::db::now(),
        "paid ({status}, order {}) for a term that ended on {}: the product is {}",
        body["status"],
        p["expires_at"],
        p["status"]
    );
}

/// Malformed input on the new routes: always a 4xx problem+json, never a 500.
#[tokio::test]
async fn review11_malformed_input_is_a_4xx_problem() {
    let app = billing_app().await;
    let (_, s) = app.signed_in("rv7@example.ch").await;
    let org = app
        .an_org(&s)
        .with_product(json!([{"offer_id": "cloud-server-s", "billing_period": "P1Y"}]))
        .await;
    let id = first_product(&org);
    let o = &org.id;
    let many: Vec<Value> = (0..2000)
        .map(|i| json!({"product_id": format!("prd_{i:032}"), "billing_period": "P1Y"}))
        .collect();
    let cases: Vec<(Method, String, Value)> = vec![
        (Method::POST, format!("/v1/orgs/{o}/renewals"), json!({})),
        (
            Method::POST,
            format!("/v1/orgs/{o}/renewals"),
            json!({"items": []}),
        ),
        (
            Method::POST,
            format!("/v1/orgs/{o}/renewals"),
            json!({"items": "x"}),
        ),
        (
            Method::POST,
            format!("/v1/orgs/{o}/renewals"),
            json!({"items": many}),
        ),
        (
            Method::POST,
            format!("/v1/orgs/{o}/renewals"),
            json!({"items": [{"product_id": id, "billing_period": "P0M"}]}),
        ),
        (
            Method::POST,
            format!("/v1/orgs/{o}/renewals"),
            json!({"items": [{"product_id": id, "billing_period": "P-1M"}]}),
        ),
        (
            Method::POST,
            format!("/v1/orgs/{o}/renewals"),
            json!({"items": [{"product_id": "prd_💥/../x", "billing_period": "P1Y"}]}),
        ),
        (
            Method::POST,
            format!("/v1/orgs/{o}/renewals"),
            json!({"items": [{"product_id": id, "billing_period": 12}]}),
        ),
        (
            Method::POST,
            format!("/v1/orgs/{o}/renewals"),
            json!({"items": [{"product_id": id, "billing_period": "P1Y"}], "payment": {"method": "payment_method", "payment_method_id": "pm_nope"}}),
        ),
        (
            Method::PATCH,
            format!("/v1/orgs/{o}/products/{id}"),
            json!({}),
        ),
        (
            Method::PATCH,
            format!("/v1/orgs/{o}/products/{id}"),
            json!({"options": {"vcpu": -5}}),
        ),
        (
            Method::PATCH,
            format!("/v1/orgs/{o}/products/{id}"),
            json!({"options": {"vcpu": i64::MAX}}),
        ),
        (
            Method::PATCH,
            format!("/v1/orgs/{o}/products/{id}"),
            json!({"options": {"vcpu": 1e300}}),
        ),
        (
            Method::PATCH,
            format!("/v1/orgs/{o}/products/{id}"),
            json!({"options": {"vcpu": "4"}}),
        ),
        (
            Method::PATCH,
            format!("/v1/orgs/{o}/products/{id}"),
            json!({"options": {"💥~/": 3}}),
        ),
        (
            Method::PATCH,
            format!("/v1/orgs/{o}/products/{id}"),
            json!({"billing_period": "P0M"}),
        ),
        (
            Method::PATCH,
            format!("/v1/orgs/{o}/products/{id}"),
            json!({"options": null, "billing_period": null}),
        ),
        (
            Method::POST,
            format!("/v1/orgs/{o}/products/{id}/move"),
            json!({"organization_id": ""}),
        ),
        (
            Method::POST,
            format!("/v1/orgs/{o}/products/{id}/move"),
            json!({"organization_id": "org_💥"}),
        ),
        (
            Method::POST,
            format!("/v1/orgs/{o}/products/{id}/move"),
            json!({"organization_id": o}),
        ),
        (
            Method::POST,
            format!("/v1/orgs/{o}/products/{id}/cancellation"),
            json!({"when": "later"}),
        ),
        (
            Method::POST,
            format!("/v1/orgs/{o}/products/{id}/cancellation"),
            json!({"when": "now", "reason": "é".repeat(5000)}),
        ),
        (
            Method::POST,
            format!("/v1/orgs/{o}/products/prd_nope/cancellation"),
            json!({"when": "now"}),
        ),
        (
            Method::GET,
            format!("/v1/orgs/{o}/pro-forma-invoices/pf_💥"),
            Value::Null,
        ),
        (
            Method::GET,
            format!("/v1/orgs/{o}/renewals?all=maybe&kind=nope"),
            Value::Null,
        ),
        (
            Method::GET,
            format!("/v1/orgs/{o}/renewals?cursor=%FF%FE"),
            Value::Null,
        ),
        (
            Method::DELETE,
            format!("/v1/orgs/{o}/products/{id}/scheduled-change"),
            Value::Null,
        ),
    ];
    let mut bad = Vec::new();
    for (m, path, body) in cases {
        let res = send(
            &app,
            m.clone(),
            &path,
            &s,
            (!body.is_null()).then_some(body.clone()),
        )
        .await;
        let status = res.status().as_u16();
        let ct = res
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap_or("").to_string())
            .unwrap_or_default();
        if !(400..500).contains(&status) || !ct.contains("problem+json") {
            let text = res.text().await.unwrap_or_default();
            bad.push(format!(
                "{m} {path} -> {status} {ct} {}",
                &text[..text.len().min(200)]
            ));
        }
    }
    for token in ["", &"a".repeat(10_000), "💥", "x\u{0}y"] {
        let res = app
            .post_json("/v1/cancellations/confirm", json!({"token": token}))
            .await;
        let status = res.status().as_u16();
        if !(400..500).contains(&status) {
            bad.push(format!(
                "confirm {:?}.. -> {status}",
                &token[..token.len().min(5)]
            ));
        }
    }
    assert!(bad.is_empty(), "{bad:#?}");
}

/// The other order of the first test: the renewal (priced with 2 vCPUs) is paid first, then the
/// upgrade (prorated only to the *old* expiry): the product runs the whole renewed year with
/// 4 vCPUs, of which the customer paid 2 for about 100 days only.
#[tokio::test]
async fn review11_an_upgrade_after_an_early_renewal_pays_every_remaining_day() {
    let app = billing_app().await;
    let (_, s) = app.signed_in("rv8@example.ch").await;
    let org = app
        .an_org(&s)
        .with_product(json!([{"offer_id": "cloud-server-s", "billing_period": "P1Y"}]))
        .await;
    let id = first_product(&org);
    let end = leman::db::now() + Duration::days(100);
    set_expiry(&app, &id, end).await;
    // Renewed a year ahead and paid: about 465 days remain.
    let body = json!({"items": [{"product_id": id, "billing_period": "P1Y"}], "payment": card(org.card())});
    let renewal = ok(renew(&app, &s, &org.id, body).await, 201).await;
    assert_eq!(renewal["status"], "paid");
    // Two more vCPUs for every remaining day: more than one year's difference, not capped at it.
    let upgrade = ok(
        patch(&app, &s, &org.id, &id, json!({"options": {"vcpu": 4}})).await,
        202,
    )
    .await;
    let net = invoice_net(&app, &s, &org.id, upgrade["invoice_id"].as_str().unwrap()).await;
    let yearly_difference = {
        let catalog = leman::catalog::Catalog::load(None).unwrap();
        let offer = catalog.offer("cloud-server-s").unwrap();
        let unit = offer
            .options
            .iter()
            .find(|o| o.name == "vcpu")
            .unwrap()
            .prices[&12]
            .chf;
        (unit * rust_decimal::Decimal::from(2))
            .to_string()
            .parse::<f64>()
            .unwrap()
    };
    assert!(
        net > yearly_difference * 1.2,
        "{net} for ~465 days of a yearly difference of {yearly_difference}"
    );
}

/// The expiry pass reads the due products, then locks each organisation and moves the product
/// by a compare-and-set on its *status* only. A renewal paid in between (another instance, or
/// a request, on PostgreSQL's read committed) leaves the product `active` with a new expiry a
/// year ahead, and the pass expires it anyway; no later pass brings it back (the Suspend step
/// waits for an expiry in the past). The interleaving, step by step.
#[tokio::test]
async fn review11_the_expiry_pass_leaves_a_product_renewed_after_it_read_it() {
    let app = billing_app().await;
    let (_, s) = app.signed_in("rv9@example.ch").await;
    let org = app
        .an_org(&s)
        .with_product(json!([{"offer_id": "domain-ch", "billing_period": "P1Y", "domain_name": fresh_domain("ch")}]))
        .await;
    let id = first_product(&org);
    let now = leman::db::now();
    set_expiry(&app, &id, now - Duration::hours(1)).await;
    // 1. The pass reads the products due (as `product_expiry::step` does).
    let due = app
        .with_conn(move |c| {
            leman::models::product_lifecycle::due(
                c,
                leman::domain::billing_states::ProductStatus::Active,
                &["domain-ch".to_string()],
                now,
                200,
            )
            .unwrap()
        })
        .await;
    assert!(due.iter().any(|p| p.id == id));
    // 2. Meanwhile the customer renews and pays.
    let paid = ok(
        renew(
            &app,
            &s,
            &org.id,
            json!({"items": [{"product_id": id, "billing_period": "P1Y"}], "payment": card(org.card())}),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(paid["status"], "paid");
    // 3. The pass takes the lock and moves the product from `active`, as it read it.
    let (pid, org_id) = (id.clone(), org.id.clone());
    let moved = app
        .with_conn(move |c| {
            leman::models::organizations::lock(c, &org_id).unwrap();
            leman::models::product_lifecycle::transition_due(
                c,
                &pid,
                &[leman::domain::billing_states::ProductStatus::Active],
                leman::domain::billing_states::ProductStatus::Expired,
                now,
                now,
            )
            .unwrap()
        })
        .await;
    let p = product(&app, &s, &org.id, &id).await;
    assert!(
        !moved,
        "a product paid until {} was expired by a pass that read it before: {}",
        p["expires_at"], p["status"]
    );
}
