//! Changing a product during its term and moving it (issue 11, parts 3 and 7): the billing
//! period's minimum (R37), a change to monthly scheduled for the term's end (R38), upgrades paid
//! prorated and applied once, kSuite-type offers that only go up and do not move (R42), moves
//! between organisations, bundles.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::fresh_domain;
use crate::helpers::{TestApp, TestSession, billing_app, card, get_json, ok, problem, send};

fn product_path(org: &str, product: &str) -> String {
    format!("/v1/orgs/{org}/products/{product}")
}

/// An organisation of `s` holding one paid product of `items`; returns (org, product, card).
async fn holding(
    app: &TestApp,
    s: &TestSession,
    name: &str,
    items: Value,
) -> (String, String, String) {
    let org = app.an_org(s).named(name).with_product(items).await;
    let product = org.orders[0]["products"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let card = org.card().to_string();
    (org.id, product, card)
}

async fn patch(
    app: &TestApp,
    s: &TestSession,
    org: &str,
    product: &str,
    body: Value,
) -> reqwest::Response {
    send(
        app,
        Method::PATCH,
        &product_path(org, product),
        s,
        Some(body),
    )
    .await
}

/// Sets the product's expiry to `at`; returns it.
async fn expire_at(app: &TestApp, product: &str, at: NaiveDateTime) -> NaiveDateTime {
    let id = product.to_string();
    app.with_conn(move |c| {
        use leman::db::schema::products as p;
        diesel::update(p::table.find(id))
            .set(p::expires_at.eq(Some(at)))
            .execute(c)
            .unwrap();
    })
    .await;
    at
}

fn rfc3339(t: NaiveDateTime) -> String {
    t.and_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

fn same_instant(v: &Value, t: NaiveDateTime) {
    let got = chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap()).unwrap();
    assert_eq!(got.naive_utc(), t, "{v} vs {}", rfc3339(t));
}

async fn invoice_count(app: &TestApp, s: &TestSession, org: &str) -> usize {
    get_json(app, s, &format!("/v1/orgs/{org}/invoices")).await["data"]
        .as_array()
        .unwrap()
        .len()
}

async fn field_error(res: reqwest::Response) -> Value {
    let body = problem(res, 422, "validation_failed").await;
    body["errors"][0].clone()
}

#[tokio::test]
async fn r37_a_period_below_its_minimum_is_refused_naming_it() {
    let app = billing_app().await;
    let (_, s) = app.signed_in("r37@example.ch").await;
    // mail-standard: CHF 9.90 a month with its 20 mailboxes, below the monthly minimum of 10.00.
    let (org, cheap, card_id) = holding(
        &app,
        &s,
        "Mails",
        json!([{"offer_id": "mail-standard", "billing_period": "P1Y"}]),
    )
    .await;
    let e =
        field_error(patch(&app, &s, &org, &cheap, json!({"billing_period": "P1M"})).await).await;
    assert_eq!(e["field"], "/billing_period");
    assert_eq!(e["code"], "period_below_minimum");
    assert!(e["message"].as_str().unwrap().contains("CHF 10.00"), "{e}");
    // A period the offer does not have.
    let e =
        field_error(patch(&app, &s, &org, &cheap, json!({"billing_period": "P2Y"})).await).await;
    assert_eq!(e["code"], "period_not_offered");
    // mail-pro: CHF 24.90 a month, above it.
    let pro = ok(
        send(
            &app,
            Method::POST,
            &format!("/v1/orgs/{org}/orders"),
            &s,
            Some(
                json!({"items": [{"offer_id": "mail-pro", "billing_period": "P1Y"}],
                "payment": card(&card_id)}),
            ),
        )
        .await,
        201,
    )
    .await["products"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let answer = ok(
        patch(&app, &s, &org, &pro, json!({"billing_period": "P1M"})).await,
        200,
    )
    .await;
    assert_eq!(
        answer["product"]["scheduled_change"]["billing_period"],
        "P1M"
    );

    // Ordering: the same minimum, on the item's period.
    let orders = format!("/v1/orgs/{org}/orders");
    let order = |items: Value| {
        send(
            &app,
            Method::POST,
            &orders,
            &s,
            Some(json!({ "items": items })),
        )
    };
    let e = field_error(
        order(json!([{"offer_id": "domain-ch", "billing_period": "P1Y", "domain_name": fresh_domain("ch")},
            {"offer_id": "mail-standard", "billing_period": "P1M"}]))
        .await,
    )
    .await;
    assert_eq!(e["field"], "/items/1/billing_period");
    assert_eq!(e["code"], "period_below_minimum");
    assert!(e["message"].as_str().unwrap().contains("CHF 10.00"), "{e}");
    // 21 mailboxes: 9.90 + 0.90 = 10.80 a month, enough.
    let placed = ok(
        order(json!([{"offer_id": "mail-standard", "billing_period": "P1M", "options": {"mailboxes": 21}}])).await,
        201,
    )
    .await;
    assert_eq!(placed["products"][0]["billing_period"], "P1M");
}

#[tokio::test]
async fn r38_a_change_to_monthly_waits_for_the_term_end_whenever_asked() {
    let app = billing_app().await;
    let (_, s) = app.signed_in("r38@example.ch").await;
    let (org, product, _) = holding(
        &app,
        &s,
        "Yearly",
        json!([{"offer_id": "web-hosting-standard", "billing_period": "P1Y"}]),
    )
    .await;
    let invoices = invoice_count(&app, &s, &org).await;

    // Asked months before the end: scheduled for it.
    let end = expire_at(
        &app,
        &product,
        leman::db::now() + chrono::Duration::days(200),
    )
    .await;
    let answer = ok(
        patch(&app, &s, &org, &product, json!({"billing_period": "P1M"})).await,
        200,
    )
    .await;
    same_instant(&answer["effective_at"], end);
    assert_eq!(answer["within_last_month"], false);
    assert!(
        answer["note"]
            .as_str()
            .unwrap()
            .contains("not billed again")
    );
    let p = &answer["product"];
    assert_eq!(p["billing_period"], "P1Y", "the paid term keeps its period");
    assert_eq!(p["scheduled_change"]["billing_period"], "P1M");
    same_instant(&p["scheduled_change"]["effective_at"], end);
    assert_eq!(p["price"]["amount"], "119.00");

    // Inside the last month: at the term's end too.
    let end = expire_at(
        &app,
        &product,
        leman::db::now() + chrono::Duration::days(20),
    )
    .await;
    let answer = ok(
        patch(&app, &s, &org, &product, json!({"billing_period": "P1M"})).await,
        200,
    )
    .await;
    same_instant(&answer["effective_at"], end);
    assert_eq!(answer["within_last_month"], true);
    let shown = get_json(&app, &s, &product_path(&org, &product)).await;
    assert_eq!(shown["billing_period"], "P1Y");
    assert_eq!(shown["scheduled_change"]["billing_period"], "P1M");
    assert_eq!(shown["backups"], true, "web hosting keeps backups");
    // The months already paid are never billed again: no new invoice, no new order.
    assert_eq!(invoice_count(&app, &s, &org).await, invoices);
    let orders = get_json(&app, &s, &format!("/v1/orgs/{org}/orders")).await;
    assert_eq!(orders["data"].as_array().unwrap().len(), 1);

    // The renewal takes the scheduled period and clears it (models::renewals::apply).
    let pid = product.clone();
    let months: (i32, Option<i32>) = app
        .with_conn(move |c| {
            use leman::db::schema::products as p;
            let now = leman::db::now();
            let r = leman::models::renewals::Renewal {
                id: leman::db::new_id("ren"),
                organization_id: String::new(),
                product_id: pid.clone(),
                order_id: None,
                pro_forma_id: None,
                period_start: end,
                period_end: end + chrono::Duration::days(30),
                period_months: 1,
                price_minor: 1000,
                options: "{}".into(),
                status: leman::domain::billing_states::ChangeStatus::Pending,
                automatic: false,
                attempts: 0,
                next_attempt_at: None,
                last_failure: None,
                created_at: now,
                settled_at: None,
            };
            leman::models::renewals::insert(c, &r).unwrap();
            leman::models::renewals::apply(c, &r, now).unwrap();
            p::table
                .find(pid)
                .select((p::period_months, p::next_period_months))
                .first(c)
                .unwrap()
        })
        .await;
    assert_eq!(months, (1, None));
}

#[tokio::test]
async fn pc_a_scheduled_change_can_be_withdrawn() {
    let app = billing_app().await;
    let (_, s) = app.signed_in("withdraw@example.ch").await;
    let (org, product, _) = holding(
        &app,
        &s,
        "Undo",
        json!([{"offer_id": "cloud-server-s", "billing_period": "P1Y", "options": {"vcpu": 4}}]),
    )
    .await;
    let path = format!("{}/scheduled-change", product_path(&org, &product));
    problem(
        send(&app, Method::DELETE, &path, &s, None).await,
        409,
        "no_scheduled_change",
    )
    .await;
    ok(
        patch(
            &app,
            &s,
            &org,
            &product,
            json!({"billing_period": "P1M", "options": {"vcpu": 3}}),
        )
        .await,
        200,
    )
    .await;
    let shown = ok(send(&app, Method::DELETE, &path, &s, None).await, 200).await;
    assert!(shown["scheduled_change"].is_null(), "{shown}");
    assert_eq!(shown["options"]["vcpu"], 4);
    let shown = get_json(&app, &s, &product_path(&org, &product)).await;
    assert!(shown["scheduled_change"].is_null());
    problem(
        send(&app, Method::DELETE, &path, &s, None).await,
        409,
        "no_scheduled_change",
    )
    .await;
    // Asking for the current period clears a scheduled one too.
    ok(
        patch(&app, &s, &org, &product, json!({"billing_period": "P3M"})).await,
        200,
    )
    .await;
    let answer = ok(
        patch(&app, &s, &org, &product, json!({"billing_period": "P1Y"})).await,
        200,
    )
    .await;
    assert!(answer["effective_at"].is_null());
    assert!(answer["product"]["scheduled_change"].is_null());
}

#[tokio::test]
async fn r42_an_upgrade_orders_the_prorated_difference_and_applies_once_paid() {
    let app = billing_app().await;
    let (_, s) = app.signed_in("upgrade@example.ch").await;
    let (org, product, card_id) = holding(
        &app,
        &s,
        "Servers",
        json!([{"offer_id": "cloud-server-s", "billing_period": "P1Y"}]),
    )
    .await;
    let end = expire_at(
        &app,
        &product,
        leman::db::now() + chrono::Duration::days(100),
    )
    .await;
    let invoices = invoice_count(&app, &s, &org).await;

    // Two more vCPUs (80.00 a year each) for 100 of the term's days.
    let order = ok(
        patch(&app, &s, &org, &product, json!({"options": {"vcpu": 4}})).await,
        202,
    )
    .await;
    assert_eq!(order["status"], "open");
    assert_eq!(order["products"][0]["id"], product.as_str());
    assert_ne!(
        order["products"][0]["options"]["vcpu"], 4,
        "not before it is paid"
    );
    let term_days = (end - end.checked_sub_months(chrono::Months::new(12)).unwrap()).num_days();
    let expected = (rust_decimal::Decimal::from(160 * 100)
        / rust_decimal::Decimal::from(term_days))
    .round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    let invoice = get_json(
        &app,
        &s,
        &format!(
            "/v1/orgs/{org}/invoices/{}",
            order["invoice_id"].as_str().unwrap()
        ),
    )
    .await;
    let lines = invoice["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 1, "one line per option: {invoice}");
    assert_eq!(lines[0]["net"]["amount"], format!("{expected:.2}"));
    assert_eq!(lines[0]["product_id"], product.as_str());
    same_instant(&lines[0]["period_end"], end);
    assert_eq!(invoice_count(&app, &s, &org).await, invoices + 1);

    // One pending change at a time.
    problem(
        patch(&app, &s, &org, &product, json!({"options": {"ram_gb": 8}})).await,
        409,
        "change_pending",
    )
    .await;

    let order_id = order["id"].as_str().unwrap().to_string();
    let pay = format!("/v1/orgs/{org}/orders/{order_id}/payments");
    ok(
        send(&app, Method::POST, &pay, &s, Some(card(&card_id))).await,
        201,
    )
    .await;
    let shown = get_json(&app, &s, &product_path(&org, &product)).await;
    assert_eq!(shown["options"]["vcpu"], 4);
    assert_eq!(shown["price"]["amount"], "510.00", "350.00 + 2 × 80.00");
    same_instant(&shown["expires_at"], end);

    // Paid again or replayed: applied once.
    problem(
        send(&app, Method::POST, &pay, &s, Some(card(&card_id))).await,
        409,
        "invoice_not_open",
    )
    .await;
    let id = order_id.clone();
    let (again, statuses) = app
        .with_conn(move |c| {
            let again =
                leman::models::product_changes::apply_of_order(c, &id, leman::db::now()).unwrap();
            let statuses: Vec<String> = leman::models::product_changes::of_order(c, &id)
                .unwrap()
                .into_iter()
                .map(|ch| ch.status.as_str().to_string())
                .collect();
            (again, statuses)
        })
        .await;
    assert_eq!(again, 0);
    assert_eq!(statuses, ["applied"]);
    // Now another upgrade may be ordered.
    ok(
        patch(&app, &s, &org, &product, json!({"options": {"ram_gb": 8}})).await,
        202,
    )
    .await;
}

#[tokio::test]
async fn pc_an_unpaid_upgrade_lapses_with_its_order() {
    let app = billing_app().await;
    let (_, s) = app.signed_in("lapse@example.ch").await;
    let (org, product, _) = holding(
        &app,
        &s,
        "Lapse",
        json!([{"offer_id": "kdrive-team", "billing_period": "P1Y"}]),
    )
    .await;
    let order = ok(
        patch(&app, &s, &org, &product, json!({"options": {"users": 8}})).await,
        202,
    )
    .await;
    let id = order["id"].as_str().unwrap().to_string();
    let statuses = app
        .with_conn(move |c| {
            let later = leman::db::now() + chrono::Duration::days(400);
            leman::services::orders::expire_due(c, later).unwrap();
            leman::models::product_changes::of_order(c, &id)
                .unwrap()
                .into_iter()
                .map(|ch| ch.status.as_str().to_string())
                .collect::<Vec<_>>()
        })
        .await;
    assert_eq!(statuses, ["voided"]);
    let shown = get_json(&app, &s, &product_path(&org, &product)).await;
    assert_ne!(
        shown["options"]["users"], 8,
        "the lapsed upgrade never applied"
    );
    // The product may be upgraded again.
    ok(
        patch(&app, &s, &org, &product, json!({"options": {"users": 7}})).await,
        202,
    )
    .await;
}

#[tokio::test]
async fn r42_ksuite_only_goes_up_and_stays_in_its_organisation() {
    let app = billing_app().await;
    let (_, s) = app.signed_in("ksuite@example.ch").await;
    let (org, product, _) = holding(
        &app,
        &s,
        "Suite",
        json!([{"offer_id": "ksuite-standard", "billing_period": "P1Y", "options": {"users": 10}}]),
    )
    .await;
    problem(
        patch(&app, &s, &org, &product, json!({"options": {"users": 6}})).await,
        409,
        "downgrade_not_allowed",
    )
    .await;
    let shown = get_json(&app, &s, &product_path(&org, &product)).await;
    assert_eq!(shown["options"]["users"], 10);
    assert!(shown["scheduled_change"].is_null());
    let other = app.create_org(&s, "Elsewhere").await;
    problem(
        send(
            &app,
            Method::POST,
            &format!("{}/move", product_path(&org, &product)),
            &s,
            Some(json!({"organization_id": other})),
        )
        .await,
        409,
        "product_not_movable",
    )
    .await;
}

#[tokio::test]
async fn r42_a_decrease_of_other_offers_applies_at_the_next_term() {
    let app = billing_app().await;
    let (_, s) = app.signed_in("decrease@example.ch").await;
    let (org, product, _) = holding(
        &app,
        &s,
        "Smaller",
        json!([{"offer_id": "cloud-server-s", "billing_period": "P1Y", "options": {"vcpu": 4}}]),
    )
    .await;
    let invoices = invoice_count(&app, &s, &org).await;
    let answer = ok(
        patch(&app, &s, &org, &product, json!({"options": {"vcpu": 3}})).await,
        200,
    )
    .await;
    let p = &answer["product"];
    assert_eq!(p["options"]["vcpu"], 4, "this term keeps what was paid");
    assert_eq!(
        p["scheduled_change"]["options"],
        json!({"vcpu": 3, "ram_gb": 4})
    );
    assert!(p["scheduled_change"]["billing_period"].is_null());
    assert_eq!(answer["effective_at"], p["expires_at"]);
    assert_eq!(invoice_count(&app, &s, &org).await, invoices);
    // Out of range and unknown options: 422 with their pointer.
    let e =
        field_error(patch(&app, &s, &org, &product, json!({"options": {"vcpu": 99}})).await).await;
    assert_eq!(
        (e["field"].as_str(), e["code"].as_str()),
        (Some("/options/vcpu"), Some("out_of_range"))
    );
    let e =
        field_error(patch(&app, &s, &org, &product, json!({"options": {"gpu": 1}})).await).await;
    assert_eq!(
        (e["field"].as_str(), e["code"].as_str()),
        (Some("/options/gpu"), Some("unknown_option"))
    );
    let e = field_error(patch(&app, &s, &org, &product, json!({})).await).await;
    assert_eq!(e["code"], "nothing_to_change");
}

#[tokio::test]
async fn pc_only_an_active_product_changes() {
    let app = billing_app().await;
    let (_, s) = app.signed_in("pending@example.ch").await;
    let org = app
        .an_org(&s)
        .named("Unpaid")
        .with_open_invoice(json!([{"offer_id": "web-hosting-standard", "billing_period": "P1Y"}]))
        .await;
    let product = org.orders[0]["products"][0]["id"].as_str().unwrap();
    problem(
        patch(&app, &s, &org.id, product, json!({"billing_period": "P1M"})).await,
        409,
        "product_not_changeable",
    )
    .await;
}

async fn move_to(
    app: &TestApp,
    s: &TestSession,
    org: &str,
    product: &str,
    to: &str,
) -> reqwest::Response {
    send(
        app,
        Method::POST,
        &format!("{}/move", product_path(org, product)),
        s,
        Some(json!({"organization_id": to})),
    )
    .await
}

#[tokio::test]
async fn pc_a_product_moves_where_the_caller_is_admin_in_both() {
    let app = billing_app().await;
    let (me, s) = app.signed_in("mover@example.ch").await;
    let (other_user, other) = app.signed_in("other@example.ch").await;
    let (_, stranger) = app.signed_in("stranger@example.ch").await;
    let (from, product, _) = holding(
        &app,
        &s,
        "From",
        json!([{"offer_id": "web-hosting-standard", "billing_period": "P1Y"}]),
    )
    .await;
    let before = get_json(&app, &s, &product_path(&from, &product)).await;
    assert_eq!(before["auto_renew"], true, "paid by card (R39)");

    // Not a member of the target: it is unknown; a member but not an admin: 403.
    let hidden = app.create_org(&stranger, "Hidden").await;
    let e = field_error(move_to(&app, &s, &from, &product, &hidden).await).await;
    assert_eq!(
        (e["field"].as_str(), e["code"].as_str()),
        (Some("/organization_id"), Some("unknown_organization"))
    );
    let member_only = app.create_org(&other, "Member only").await;
    app.add_member(&member_only, &me.id, "member", &["products", "accounting"])
        .await;
    problem(
        move_to(&app, &s, &from, &product, &member_only).await,
        403,
        "permission_denied",
    )
    .await;
    // Another currency.
    let eur = ok(
        send(&app, Method::POST, "/v1/orgs", &s, Some(json!({
            "name": "Euro", "country": "FR", "currency": "EUR",
            "billing_address": {"line1": "1 rue de la Paix", "postal_code": "75002", "city": "Paris"}
        })))
        .await,
        201,
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    problem(
        move_to(&app, &s, &from, &product, &eur).await,
        409,
        "currency_mismatch",
    )
    .await;
    // A member of the source with products and accounting, but not an admin: 403.
    app.add_member(&from, &other_user.id, "member", &["products", "accounting"])
        .await;
    problem(
        move_to(&app, &other, &from, &product, &member_only).await,
        403,
        "permission_denied",
    )
    .await;

    let to = app.create_org(&s, "To").await;
    let moved = ok(move_to(&app, &s, &from, &product, &to).await, 200).await;
    assert_eq!(moved["id"], product.as_str());
    assert_eq!(
        moved["auto_renew"], false,
        "the card stays with the old organisation"
    );
    assert!(moved["auto_renew_payment_method_id"].is_null());
    get_json(&app, &s, &product_path(&to, &product)).await;
    problem(
        send(&app, Method::GET, &product_path(&from, &product), &s, None).await,
        404,
        "not_found",
    )
    .await;
    // Its invoice stays where it was issued.
    assert_eq!(invoice_count(&app, &s, &from).await, 1);
    assert_eq!(invoice_count(&app, &s, &to).await, 0);
    // Both organisations record it.
    let log = |org: String| {
        let app = &app;
        let s = &s;
        async move {
            get_json(app, s, &format!("/v1/orgs/{org}/activities")).await["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a["action"].as_str().unwrap_or_default().to_string())
                .collect::<Vec<_>>()
        }
    };
    assert!(
        log(from.clone())
            .await
            .contains(&"product.moved_out".to_string())
    );
    assert!(
        log(to.clone())
            .await
            .contains(&"product.moved_in".to_string())
    );
}

#[tokio::test]
async fn pc_a_bundle_orders_its_included_products_and_moves_with_them() {
    let app = billing_app().await;
    let (_, s) = app.signed_in("bundle@example.ch").await;
    let org = app
        .an_org(&s)
        .named("Pack")
        .with_product(json!([{"offer_id": "web-hosting-pack", "billing_period": "P1Y"}]))
        .await;
    let products = get_json(&app, &s, &format!("/v1/orgs/{}/products", org.id)).await;
    let products = products["data"].as_array().unwrap();
    assert_eq!(products.len(), 2, "{products:?}");
    let bundle = products
        .iter()
        .find(|p| p["offer_id"] == "web-hosting-pack")
        .unwrap();
    let ssl = products.iter().find(|p| p["offer_id"] == "ssl-dv").unwrap();
    assert_eq!(ssl["bundle_id"], bundle["id"]);
    assert!(bundle["bundle_id"].is_null());
    assert_eq!(ssl["price"]["amount"], "0.00");
    assert_eq!(ssl["status"], "active");
    assert_eq!(ssl["billing_period"], "P1Y");
    assert_eq!(ssl["expires_at"], bundle["expires_at"]);
    // One invoice line: the bundle's.
    let invoice = get_json(
        &app,
        &s,
        &format!("/v1/orgs/{}/invoices/{}", org.id, org.invoice(0)),
    )
    .await;
    assert_eq!(invoice["lines"].as_array().unwrap().len(), 1);
    assert_eq!(invoice["subtotal"]["amount"], "139.00");

    let (bundle, ssl) = (bundle["id"].as_str().unwrap(), ssl["id"].as_str().unwrap());
    let to = app.create_org(&s, "New home").await;
    problem(
        move_to(&app, &s, &org.id, ssl, &to).await,
        409,
        "bundled_product",
    )
    .await;
    problem(
        patch(&app, &s, &org.id, ssl, json!({"billing_period": "P1Y"})).await,
        409,
        "bundled_product",
    )
    .await;
    ok(move_to(&app, &s, &org.id, bundle, &to).await, 200).await;
    let moved = get_json(&app, &s, &format!("/v1/orgs/{to}/products")).await;
    assert_eq!(moved["data"].as_array().unwrap().len(), 2);
    let left = get_json(&app, &s, &format!("/v1/orgs/{}/products", org.id)).await;
    assert!(left["data"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn pc_members_without_products_and_accounting_are_refused() {
    let app = billing_app().await;
    let (_, s) = app.signed_in("owner@example.ch").await;
    let (member, m) = app.signed_in("member@example.ch").await;
    let (org, product, _) = holding(
        &app,
        &s,
        "Guarded",
        json!([{"offer_id": "web-hosting-standard", "billing_period": "P1Y"}]),
    )
    .await;
    app.add_member(&org, &member.id, "member", &["products"])
        .await;
    problem(
        patch(&app, &m, &org, &product, json!({"billing_period": "P1M"})).await,
        403,
        "permission_denied",
    )
    .await;
    problem(
        send(
            &app,
            Method::DELETE,
            &format!("{}/scheduled-change", product_path(&org, &product)),
            &m,
            None,
        )
        .await,
        403,
        "permission_denied",
    )
    .await;
    let theirs = app.create_org(&m, "Theirs").await;
    problem(
        move_to(&app, &m, &org, &product, &theirs).await,
        403,
        "permission_denied",
    )
    .await;
}

/// The activity walk's scenario (`activity_record.rs`) for the routes here: how many activity
/// rows one successful call adds.
pub(crate) async fn activity_scenario(app: &TestApp, operation: &str, email: &str) -> i64 {
    let (_, s) = app.signed_in(email).await;
    let (org, product, _) = holding(
        app,
        &s,
        "Walker Products",
        json!([{"offer_id": "web-hosting-standard", "billing_period": "P1Y"}]),
    )
    .await;
    let to = app.create_org(&s, "Walker Elsewhere").await;
    if operation == "withdraw_product_change" {
        ok(
            patch(app, &s, &org, &product, json!({"billing_period": "P1M"})).await,
            200,
        )
        .await;
    }
    let count = || {
        app.with_conn(|c| {
            leman::db::schema::activities::table
                .count()
                .get_result::<i64>(c)
                .unwrap()
        })
    };
    let before = count().await;
    let res = match operation {
        "update_product" => patch(app, &s, &org, &product, json!({"billing_period": "P1M"})).await,
        "withdraw_product_change" => {
            let path = format!("{}/scheduled-change", product_path(&org, &product));
            send(app, Method::DELETE, &path, &s, None).await
        }
        _ => move_to(app, &s, &org, &product, &to).await,
    };
    assert!(res.status().is_success(), "{operation}: {}", res.status());
    count().await - before
}
