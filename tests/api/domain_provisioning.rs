//! Ordering a domain (issue 12, parts 1 and 2): the order names it and checks it again, paying
//! provisions it through the registry (`provision_domain`), a name taken meanwhile is refunded
//! to the prepaid account once, an unpaid order frees its name, and a paid renewal extends the
//! registration at the registry once (`renew_domain`).

use diesel::prelude::*;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

async fn order_body(app: &TestApp, s: &TestSession, org: &str, body: Value) -> reqwest::Response {
    send(
        app,
        Method::POST,
        &format!("/v1/orgs/{org}/orders"),
        s,
        Some(body),
    )
    .await
}

/// How many jobs of `kind` are queued (pending, running or dead).
async fn jobs_of(app: &TestApp, kind: &str) -> i64 {
    let kind = kind.to_string();
    app.with_conn(move |c| {
        use leman::db::schema::jobs;
        jobs::table
            .filter(jobs::kind.eq(kind))
            .count()
            .get_result(c)
            .unwrap()
    })
    .await
}

/// Waits until no job of `kind` is left.
async fn drained(app: &TestApp, kind: &str) {
    for _ in 0..500 {
        if jobs_of(app, kind).await == 0 {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("jobs {kind} still queued");
}

/// Queues a job again, as a runner crashing before its commit would leave it.
async fn enqueue(app: &TestApp, kind: &str, payload: Value) {
    let kind = kind.to_string();
    app.with_conn(move |c| {
        leman::models::jobs::enqueue(c, leman::models::jobs::NewJob::new(&kind, payload, 3))
            .unwrap()
    })
    .await;
}

async fn domain_of(app: &TestApp, product_id: &str) -> leman::models::domains::Domain {
    let id = product_id.to_string();
    app.with_conn(move |c| leman::models::domains::of_product(c, &id).unwrap().unwrap())
        .await
}

async fn registry_expiry(app: &TestApp, name: &str) -> chrono::NaiveDateTime {
    let (registry, name) = (app.services.registry.clone(), name.to_string());
    tokio::task::spawn_blocking(move || registry.info(&name).unwrap().expires_at)
        .await
        .unwrap()
}

fn field_errors(p: &Value) -> Vec<(String, String)> {
    p["errors"]
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

#[tokio::test]
async fn a_paid_domain_is_provisioning_until_the_registry_confirms_it_then_active() {
    let app = TestApp::spawn().await;
    let (_, s) = app.signed_in("buyer@example.ch").await;
    let org = app.an_org(&s).with_card().await;
    let order = ok(
        order_body(
            &app,
            &s,
            &org.id,
            json!({"items": [{"offer_id": "domain-ch", "billing_period": "P2Y", "domain_name": "Acme-Shop.CH"}],
                   "payment": card(org.card())}),
        )
        .await,
        201,
    )
    .await;
    let product = &order["products"][0];
    assert_eq!(product["name"], "acme-shop.ch");
    assert!(
        ["provisioning", "active"].contains(&product["status"].as_str().unwrap()),
        "{product}"
    );
    let id = product["id"].as_str().unwrap();
    let done = app.wait_until_provisioned(&s, &org.id, id).await;
    assert_eq!(done["status"], "active");
    let d = domain_of(&app, id).await;
    assert_eq!(d.name, "acme-shop.ch");
    assert_eq!(
        d.status,
        leman::domain::domains::DomainStatus::Active,
        "the domain is active"
    );
    let expiry = registry_expiry(&app, "acme-shop.ch").await;
    assert_eq!(d.expires_at, Some(leman::db::truncate(expiry)));
    // Two years at the registry; the product expires with the registration.
    assert!(expiry > leman::db::now() + chrono::Duration::days(700));
    assert_eq!(
        done["expires_at"].as_str().unwrap()[..10],
        expiry.format("%Y-%m-%d").to_string()
    );
    // The owner contact defaults to the organisation and the ordering person.
    let owner = d.owner();
    assert_eq!(owner.email, "buyer@example.ch");
    assert_eq!(owner.organization.as_deref(), Some("Acme"));
    assert_eq!(owner.city, "Genève");
    app.wait_for_mail_containing(
        "buyer@example.ch",
        "acme-shop.ch ordered for Acme is now registered",
    )
    .await;
    let kinds = app.activities_of_org(&org.id).await;
    assert!(
        kinds.contains(&"domain.registered".to_string()),
        "{kinds:?}"
    );
}

#[tokio::test]
async fn a_name_taken_meanwhile_fails_and_its_price_goes_back_to_the_prepaid_account_once() {
    let app = TestApp::spawn().await;
    let (_, s) = app.signed_in("racer@example.ch").await;
    let org = app.an_org(&s).with_card().await;
    let order = ok(
        order_body(
            &app,
            &s,
            &org.id,
            json!({"items": [
                    {"offer_id": "domain-ch", "billing_period": "P1Y", "domain_name": "race-acme.ch"},
                    {"offer_id": "ksuite-standard", "billing_period": "P1Y"}],
                   "payment": card(org.card())}),
        )
        .await,
        201,
    )
    .await;
    let id = order["products"][0]["id"].as_str().unwrap();
    let failed = app.wait_until_provisioned(&s, &org.id, id).await;
    assert_eq!(failed["status"], "failed");
    assert_eq!(failed["auto_renew"], false);
    // The other product of the order is delivered.
    let other = order["products"][1]["id"].as_str().unwrap();
    assert_eq!(
        get_json(&app, &s, &format!("/v1/orgs/{}/products/{other}", org.id)).await["status"],
        "active"
    );
    let d = domain_of(&app, id).await;
    assert_eq!(d.status, leman::domain::domains::DomainStatus::Failed);
    // The domain's line (11.00 + 8.1 % VAT), not the whole invoice.
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
    let line: Vec<&Value> = invoice["lines"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["product_id"] == id)
        .collect();
    let line_total = line[0]["total"]["amount"].as_str().unwrap().to_string();
    assert_eq!(line_total, "11.89");
    assert_eq!(ledger_sum_and_balance(&app, &org.id).await, (1189, 1189));
    assert_eq!(invoice["status"], "partially_refunded");
    app.wait_for_mail_containing("racer@example.ch", "was registered by someone else")
        .await;
    // The job again (a runner that crashed before its commit): nothing more.
    enqueue(&app, "provision_domain", json!({"domain_id": d.id})).await;
    drained(&app, "provision_domain").await;
    assert_eq!(ledger_sum_and_balance(&app, &org.id).await, (1189, 1189));
    let kinds = app.activities_of_org(&org.id).await;
    assert_eq!(count(&kinds, "domain.registration_failed"), 1, "{kinds:?}");
    assert_eq!(count(&kinds, "invoice.refunded"), 1);
    // The name is not held by us: ordering it again is possible (the registry answers).
    assert_eq!(
        get_json(&app, &s, "/v1/domains/availability?name=race-acme.ch").await["available"],
        true
    );
}

#[tokio::test]
async fn domain_names_in_orders_are_checked_with_pointers() {
    let app = TestApp::spawn().await;
    let (_, s) = app.signed_in("checks@example.ch").await;
    let org = app.an_org(&s).await;
    let item = |offer: &str, name: Option<&str>| {
        let mut v = json!({"offer_id": offer, "billing_period": "P1Y"});
        if let Some(n) = name {
            v["domain_name"] = json!(n);
        }
        v
    };
    let cases = [
        (
            vec![item("domain-ch", None)],
            "/items/0/domain_name",
            "required",
        ),
        (
            vec![item("domain-ch", Some("a_b.ch"))],
            "/items/0/domain_name",
            "invalid_domain_name",
        ),
        (
            vec![item("domain-ch", Some("www.acme.ch"))],
            "/items/0/domain_name",
            "invalid_domain_name",
        ),
        (
            vec![item("domain-ch", Some("acme.li"))],
            "/items/0/domain_name",
            "domain_offer_mismatch",
        ),
        (
            vec![item("ksuite-standard", Some("acme.ch"))],
            "/items/0/domain_name",
            "not_a_domain_offer",
        ),
        (
            vec![item("domain-ch", Some("taken-acme.ch"))],
            "/items/0/domain_name",
            "domain_not_available",
        ),
        (
            vec![
                item("domain-ch", Some("twice.ch")),
                item("domain-ch", Some("TWICE.ch")),
            ],
            "/items/1/domain_name",
            "duplicate_domain_name",
        ),
    ];
    for (items, field, code) in cases {
        let p = problem(
            order_body(&app, &s, &org.id, json!({"items": items})).await,
            422,
            "validation_failed",
        )
        .await;
        assert_eq!(
            field_errors(&p),
            vec![(field.to_string(), code.to_string())],
            "{items:?}"
        );
    }
    // Nothing was created by any of them.
    let orders = get_json(&app, &s, &format!("/v1/orgs/{}/orders", org.id)).await;
    assert_eq!(orders["data"], json!([]));
    // A name ordered (even unpaid) is held: a second order of it is refused.
    app.order(
        &s,
        &org.id,
        json!([item("domain-ch", Some("held-by-us.ch"))]),
    )
    .await;
    let p = problem(
        order_body(
            &app,
            &s,
            &org.id,
            json!({"items": [item("domain-ch", Some("held-by-us.ch"))]}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(
        field_errors(&p),
        vec![(
            "/items/0/domain_name".to_string(),
            "domain_not_available".to_string()
        )]
    );
}

#[tokio::test]
async fn an_idn_name_is_registered_in_punycode_with_its_unicode_name() {
    let app = TestApp::spawn().await;
    let (_, s) = app.signed_in("idn@example.ch").await;
    let org = app
        .an_org(&s)
        .with_product(
            json!([{"offer_id": "domain-ch", "billing_period": "P1Y", "domain_name": "Müller.ch"}]),
        )
        .await;
    let product = &org.orders[0]["products"][0];
    assert_eq!(product["name"], "müller.ch");
    let d = domain_of(&app, product["id"].as_str().unwrap()).await;
    assert_eq!(d.name, "xn--mller-kva.ch");
    assert_eq!(d.unicode_name, "müller.ch");
    assert_eq!(d.status, leman::domain::domains::DomainStatus::Active);
    registry_expiry(&app, "xn--mller-kva.ch").await;
    // Either spelling is the same name now.
    let a = get_json(&app, &s, "/v1/domains/availability?name=xn--mller-kva.ch").await;
    assert_eq!(a["available"], false);
    assert_eq!(a["unicode_name"], "müller.ch");
}

#[tokio::test]
async fn an_order_that_expires_unpaid_frees_its_name() {
    let app = TestApp::spawn().await;
    let (_, s) = app.signed_in("late@example.ch").await;
    let org = app.an_org(&s).await;
    let item =
        json!([{"offer_id": "domain-ch", "billing_period": "P1Y", "domain_name": "late-payer.ch"}]);
    let order = app.order(&s, &org.id, item.clone()).await;
    let availability = "/v1/domains/availability?name=late-payer.ch";
    assert_eq!(get_json(&app, &s, availability).await["available"], false);
    let id = order["id"].as_str().unwrap().to_string();
    app.with_conn(move |c| {
        use leman::db::schema::orders;
        diesel::update(orders::table.find(id))
            .set(orders::expires_at.eq(leman::db::now() - chrono::Duration::minutes(1)))
            .execute(c)
            .unwrap()
    })
    .await;
    let out = app.cli(&["jobs", "run", "expire_orders"], &[]);
    assert!(out.status.success(), "{out:?}");
    let d = domain_of(&app, order["products"][0]["id"].as_str().unwrap()).await;
    assert_eq!(d.status, leman::domain::domains::DomainStatus::Cancelled);
    assert_eq!(get_json(&app, &s, availability).await["available"], true);
    app.order(&s, &org.id, item).await;
}

#[tokio::test]
async fn a_paid_renewal_extends_the_registration_at_the_registry_once() {
    let app = TestApp::spawn().await;
    let (_, s) = app.signed_in("renewer@example.ch").await;
    let org = app.an_org(&s).funded("100.00").await;
    let d = app
        .registered_domain(&org.id, "renew-me.ch", "renewer@example.ch")
        .await;
    let before = registry_expiry(&app, "renew-me.ch").await;
    ok(
        send(
            &app,
            Method::POST,
            &format!("/v1/orgs/{}/renewals", org.id),
            &s,
            Some(
                json!({"items": [{"product_id": d.product_id, "billing_period": "P2Y"}],
                        "payment": {"method": "prepaid"}}),
            ),
        )
        .await,
        201,
    )
    .await;
    drained(&app, "renew_domain").await;
    let after = registry_expiry(&app, "renew-me.ch").await;
    assert_eq!(
        after,
        before.checked_add_months(chrono::Months::new(24)).unwrap()
    );
    let row = domain_of(&app, &d.product_id).await;
    assert_eq!(row.expires_at, Some(leman::db::truncate(after)));
    // The product's expiry and the registry's agree.
    let product = get_json(
        &app,
        &s,
        &format!("/v1/orgs/{}/products/{}", org.id, d.product_id),
    )
    .await;
    assert_eq!(
        product["expires_at"].as_str().unwrap()[..10],
        after.format("%Y-%m-%d").to_string()
    );
    // The same job again (its commit lost): the registry refuses a second extension and the
    // job accepts the expiry it already has.
    enqueue(
        &app,
        "renew_domain",
        json!({"domain_id": d.id, "previous_expiry": before, "years": 2}),
    )
    .await;
    drained(&app, "renew_domain").await;
    assert_eq!(registry_expiry(&app, "renew-me.ch").await, after);
    let kinds = app.activities_of_org(&org.id).await;
    assert_eq!(count(&kinds, "domain.renewed"), 1, "{kinds:?}");
}
