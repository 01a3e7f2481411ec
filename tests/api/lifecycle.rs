//! The product lifecycle (issue 11, parts 6 and 8; R43–R46, R22): expiry → grace → suspension →
//! cancellation with a shifted clock, renewal during grace, and cancellation through a mailed
//! link (confirmation, withdrawal, who is told, what stays due, backups, bundles).

use std::collections::HashSet;

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::fresh_domain;
use crate::helpers::{
    TestApp, TestOrg, TestSession, billing_app, get_json, link_token, mail_text, ok, problem, send,
    unmet,
};
use leman::domain::billing_states::ProductStatus;
use leman::models::products::Product;
use leman::services::product_expiry::{self, Summary};

const DOMAIN: &str = "domain-ch";

fn product_id(org: &TestOrg, n: usize) -> String {
    org.orders[n]["products"][0]["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The product's row.
async fn row(app: &TestApp, org: &str, id: &str) -> Product {
    let (org, id) = (org.to_string(), id.to_string());
    app.with_conn(move |c| {
        leman::models::products::find(c, &org, &id)
            .unwrap()
            .unwrap()
    })
    .await
}

/// One expiry pass at `now` (the job's work, with a shifted clock).
async fn pass(app: &TestApp, now: NaiveDateTime) -> Summary {
    let (config, catalog) = (app.services.config.clone(), app.services.catalog.clone());
    app.with_conn(move |c| product_expiry::run(c, &config, &catalog, now).unwrap())
        .await
}

/// How many activity records of `action` name the product.
async fn activities(app: &TestApp, product: &str, action: &str) -> i64 {
    let (product, action) = (product.to_string(), action.to_string());
    app.with_conn(move |c| {
        use leman::db::schema::activities as a;
        a::table
            .filter(a::product_id.eq(product))
            .filter(a::action.eq(action))
            .count()
            .get_result::<i64>(c)
            .unwrap()
    })
    .await
}

/// The texts of the mails delivered to `to` so far.
fn texts(app: &TestApp, to: &str) -> Vec<String> {
    app.mails()
        .into_iter()
        .filter(|m| m.contains(&format!("To: {to}")))
        .map(|m| mail_text(&m))
        .collect()
}

/// Waits until `to` has `n` mails containing `needle`; returns them.
async fn wait_texts(app: &TestApp, to: &str, needle: &str, n: usize) -> Vec<String> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let found: Vec<String> = texts(app, to)
            .into_iter()
            .filter(|t| t.contains(needle))
            .collect();
        if found.len() >= n {
            return found;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{to}: {} of {n} mails containing {needle:?}",
            found.len()
        );
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
}

/// Asks to cancel; returns the answer.
async fn ask(
    app: &TestApp,
    s: &TestSession,
    org: &str,
    product: &str,
    body: Value,
) -> reqwest::Response {
    let path = format!("/v1/orgs/{org}/products/{product}/cancellation");
    send(app, Method::POST, &path, s, Some(body)).await
}

/// Asks to cancel (202) and returns the confirmation link's token mailed to `email`.
async fn ask_for_link(
    app: &TestApp,
    s: &TestSession,
    email: &str,
    org: &str,
    product: &str,
    body: Value,
) -> (Value, String) {
    let before: HashSet<String> = texts(app, email).into_iter().collect();
    let answer = ok(ask(app, s, org, product, body).await, 202).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        if let Some(text) = texts(app, email)
            .into_iter()
            .find(|t| !before.contains(t) && t.contains("/confirm-cancellation?token="))
        {
            return (answer, link_token(&text, "/confirm-cancellation"));
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no cancellation link to {email}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
}

async fn confirm(app: &TestApp, token: &str) -> reqwest::Response {
    app.post_json("/v1/cancellations/confirm", json!({"token": token}))
        .await
}

async fn withdraw(app: &TestApp, s: &TestSession, org: &str, product: &str) -> reqwest::Response {
    let path = format!("/v1/orgs/{org}/products/{product}/cancellation");
    send(app, Method::DELETE, &path, s, None).await
}

fn now_body() -> Value {
    json!({"when": "now", "reason": "We do not need it any more."})
}

#[tokio::test]
async fn lc_expiry_walks_expired_suspended_cancelled_each_step_once() {
    let app = billing_app().await;
    let (_, s) = app.signed_in("owner@example.ch").await;
    let accountant = app.create_user("accountant@example.ch").await;
    let seller = app.create_user("seller@example.ch").await;
    let org = app
        .an_org(&s)
        .with_member(&accountant, "member", &["accounting"])
        .with_member(&seller, "member", &["products"])
        .with_product(json!([{"offer_id": DOMAIN, "billing_period": "P1Y", "domain_name": fresh_domain("ch")}]))
        .await;
    let id = product_id(&org, 0);
    let p = row(&app, &org.id, &id).await;
    assert!(p.auto_renew, "paid by card: renews automatically");
    let expiry = p.expires_at.unwrap();
    let grace = Duration::days(30);
    let suspension = Duration::days(30);

    // Before the expiry nothing moves.
    assert_eq!(
        pass(&app, expiry - Duration::minutes(1)).await,
        Summary::default()
    );
    assert_eq!(row(&app, &org.id, &id).await.status, ProductStatus::Active);

    // At the expiry: expired, once, even when the pass runs twice.
    let at = expiry + Duration::minutes(1);
    assert_eq!(pass(&app, at).await.expired, 1);
    assert_eq!(pass(&app, at).await, Summary::default());
    let p = row(&app, &org.id, &id).await;
    assert_eq!(p.status, ProductStatus::Expired);
    assert_eq!(p.status_changed_at, Some(at));
    assert_eq!(p.expires_at, Some(expiry), "the term's dates stay");
    assert_eq!(activities(&app, &id, "product.expired").await, 1);
    let mail = &wait_texts(&app, &accountant.email, "without being renewed", 1).await[0];
    assert!(mail.contains("You can still renew it until"), "{mail}");

    // Within the grace days it stays expired (still renewable).
    assert_eq!(
        pass(&app, expiry + grace - Duration::minutes(1)).await,
        Summary::default()
    );
    assert_eq!(row(&app, &org.id, &id).await.status, ProductStatus::Expired);

    // After the grace: suspended, once.
    let at = expiry + grace + Duration::minutes(1);
    assert_eq!(pass(&app, at).await.suspended, 1);
    assert_eq!(pass(&app, at).await, Summary::default());
    assert_eq!(
        row(&app, &org.id, &id).await.status,
        ProductStatus::Suspended
    );
    assert_eq!(activities(&app, &id, "product.suspended").await, 1);

    // After the suspension: cancelled, once, automatic renewal off.
    let at = expiry + grace + suspension + Duration::minutes(1);
    assert_eq!(pass(&app, at).await.cancelled, 1);
    assert_eq!(pass(&app, at).await, Summary::default());
    let p = row(&app, &org.id, &id).await;
    assert_eq!(p.status, ProductStatus::Cancelled);
    assert_eq!(p.cancelled_at, Some(at));
    assert!(!p.auto_renew && p.auto_renew_payment_method_id.is_none());
    assert_eq!(activities(&app, &id, "product.cancelled").await, 1);

    // Each step mailed each accounting holder once; a member without `accounting` heard nothing.
    wait_texts(&app, &accountant.email, "is suspended", 1).await;
    // ("is cancelled" alone also matches the suspension mail's "it is cancelled on".)
    wait_texts(
        &app,
        &accountant.email,
        "Invoices already issued stay due",
        1,
    )
    .await;
    wait_texts(
        &app,
        "owner@example.ch",
        "Invoices already issued stay due",
        1,
    )
    .await;
    // (The renewal scheduler, running in this server, may add its own reminder: not counted.)
    let all: Vec<String> = texts(&app, &accountant.email)
        .into_iter()
        .filter(|t| !t.contains("Automatic renewal is off"))
        .collect();
    assert_eq!(all.len(), 3, "{all:#?}");
    assert!(texts(&app, &seller.email).is_empty());
}

#[tokio::test]
async fn lc_a_long_overdue_product_takes_every_step_in_one_pass_and_the_api_shows_it() {
    let app = billing_app().await;
    let (_, s) = app.signed_in("owner@example.ch").await;
    let org = app
        .an_org(&s)
        .with_product(json!([{"offer_id": "web-hosting-starter", "billing_period": "P1Y"}]))
        .await;
    let id = product_id(&org, 0);
    let expiry = row(&app, &org.id, &id).await.expires_at.unwrap();
    // Hosting: 15 days of grace, 30 of suspension.
    let done = pass(&app, expiry + Duration::days(15 + 30 + 1)).await;
    assert_eq!((done.expired, done.suspended, done.cancelled), (1, 1, 1));
    let view = get_json(&app, &s, &format!("/v1/orgs/{}/products/{id}", org.id)).await;
    assert_eq!(view["status"], "cancelled");
    assert_eq!(view["auto_renew"], false);
}

#[tokio::test]
async fn lc_renewing_during_grace_restores_the_product_with_its_original_term_dates() {
    let app = billing_app().await;
    let (_, s) = app.signed_in("owner@example.ch").await;
    let org = app
        .an_org(&s)
        .funded("100.00")
        .with_product(json!([{"offer_id": DOMAIN, "billing_period": "P1Y", "domain_name": fresh_domain("ch")}]))
        .await;
    let id = product_id(&org, 0);
    let expiry = row(&app, &org.id, &id).await.expires_at.unwrap();
    assert_eq!(pass(&app, expiry + Duration::days(3)).await.expired, 1);

    // A renewal of the next term (from the old expiry, not today), on an open order's invoice.
    let order = app
        .order(
            &s,
            &org.id,
            json!([{"offer_id": DOMAIN, "billing_period": "P1Y", "domain_name": fresh_domain("ch")}]),
        )
        .await;
    let order_id = order["id"].as_str().unwrap().to_string();
    let renewal = leman::models::renewals::Renewal {
        id: leman::db::new_id("rnw"),
        organization_id: org.id.clone(),
        product_id: id.clone(),
        order_id: Some(order_id.clone()),
        pro_forma_id: None,
        period_start: expiry,
        period_end: expiry + chrono::Months::new(12),
        period_months: 12,
        price_minor: 1100,
        options: "{}".into(),
        status: leman::domain::billing_states::ChangeStatus::Pending,
        automatic: false,
        attempts: 0,
        next_attempt_at: None,
        last_failure: None,
        created_at: leman::db::now(),
        settled_at: None,
    };
    app.with_conn(move |c| leman::models::renewals::insert(c, &renewal).unwrap())
        .await;
    let path = format!("/v1/orgs/{}/orders/{order_id}/payments", org.id);
    ok(
        send(
            &app,
            Method::POST,
            &path,
            &s,
            Some(json!({"method": "prepaid"})),
        )
        .await,
        201,
    )
    .await;

    let p = row(&app, &org.id, &id).await;
    assert_eq!(p.status, ProductStatus::Active);
    assert_eq!(
        p.expires_at,
        Some(expiry + chrono::Months::new(12)),
        "the new term runs from the old expiry, not from the day it was paid"
    );
    // The next passes leave it alone until its new expiry.
    pass(&app, expiry + Duration::days(40)).await;
    assert_eq!(row(&app, &org.id, &id).await.status, ProductStatus::Active);
    assert_eq!(activities(&app, &id, "product.expired").await, 1);
}

#[tokio::test]
async fn r43_a_cancellation_changes_nothing_until_its_mailed_link_confirms_it_once() {
    let app = billing_app().await;
    let (owner, s) = app.signed_in("owner@example.ch").await;
    let org = app
        .an_org(&s)
        .with_product(json!([{"offer_id": DOMAIN, "billing_period": "P1Y", "domain_name": fresh_domain("ch")}]))
        .await;
    let id = product_id(&org, 0);
    let (answer, token) = ask_for_link(&app, &s, &owner.email, &org.id, &id, now_body()).await;
    assert_eq!(answer["status"], "requested");
    assert_eq!(answer["when"], "now");
    assert_eq!(answer["product_status"], "active");
    assert_eq!(answer["backups_deleted_at_cancellation"], false);
    assert_eq!(answer["reason"], "We do not need it any more.");

    // Asked, not confirmed: nothing changed.
    let p = row(&app, &org.id, &id).await;
    assert_eq!(p.status, ProductStatus::Active);
    assert!(p.auto_renew);
    assert_eq!(activities(&app, &id, "cancellation.requested").await, 1);

    // Confirmed once: cancelled now, automatic renewal off.
    let confirmed = ok(confirm(&app, &token).await, 200).await;
    assert_eq!(confirmed["status"], "confirmed");
    assert_eq!(confirmed["product_status"], "cancelled");
    let p = row(&app, &org.id, &id).await;
    assert_eq!(p.status, ProductStatus::Cancelled);
    assert!(p.cancelled_at.is_some());
    assert!(!p.auto_renew && p.auto_renew_payment_method_id.is_none());
    assert_eq!(activities(&app, &id, "cancellation.confirmed").await, 1);

    // The link works once.
    problem(confirm(&app, &token).await, 400, "invalid_token").await;
    problem(confirm(&app, "not-a-token").await, 400, "invalid_token").await;
    // A cancelled product is not cancelled again, nor withdrawn.
    problem(
        ask(&app, &s, &org.id, &id, now_body()).await,
        409,
        "product_not_cancellable",
    )
    .await;
    problem(
        withdraw(&app, &s, &org.id, &id).await,
        409,
        "no_cancellation",
    )
    .await;
}

#[tokio::test]
async fn lc_an_expired_link_is_refused_and_changes_nothing() {
    let app = billing_app().await;
    let (owner, s) = app.signed_in("owner@example.ch").await;
    let org = app
        .an_org(&s)
        .with_product(json!([{"offer_id": DOMAIN, "billing_period": "P1Y", "domain_name": fresh_domain("ch")}]))
        .await;
    let id = product_id(&org, 0);
    let (_, token) = ask_for_link(&app, &s, &owner.email, &org.id, &id, now_body()).await;
    let uid = owner.id.clone();
    app.with_conn(move |c| {
        use leman::db::schema::one_time_tokens as t;
        diesel::update(
            t::table
                .filter(t::user_id.eq(uid))
                .filter(t::purpose.eq("cancellation")),
        )
        .set(t::expires_at.eq(leman::db::now() - Duration::minutes(1)))
        .execute(c)
        .unwrap()
    })
    .await;
    problem(confirm(&app, &token).await, 400, "invalid_token").await;
    assert_eq!(row(&app, &org.id, &id).await.status, ProductStatus::Active);
}

#[tokio::test]
async fn lc_end_of_term_waits_for_the_expiry_then_the_job_cancels_it_once() {
    let app = billing_app().await;
    let (owner, s) = app.signed_in("owner@example.ch").await;
    let org = app
        .an_org(&s)
        .with_product(json!([{"offer_id": DOMAIN, "billing_period": "P1Y", "domain_name": fresh_domain("ch")}]))
        .await;
    let id = product_id(&org, 0);
    let expiry = row(&app, &org.id, &id).await.expires_at.unwrap();
    let body = json!({"when": "end_of_term"});
    let (answer, token) = ask_for_link(&app, &s, &owner.email, &org.id, &id, body.clone()).await;
    assert_eq!(answer["effective_at"], json!(expiry.and_utc()));
    let confirmed = ok(confirm(&app, &token).await, 200).await;
    assert_eq!(confirmed["product_status"], "cancellation_pending");
    let p = row(&app, &org.id, &id).await;
    assert_eq!(p.status, ProductStatus::CancellationPending);
    assert!(!p.auto_renew && p.auto_renew_payment_method_id.is_none());

    // Another request while one waits for the term's end: 409.
    problem(
        ask(&app, &s, &org.id, &id, body).await,
        409,
        "cancellation_pending",
    )
    .await;
    // R22: a product waiting for its cancellation still blocks deleting the organisation.
    assert!(
        unmet(&app, &s, &org.id)
            .await
            .contains(&"products".to_string())
    );

    // Not before the expiry; at it, once.
    assert_eq!(
        pass(&app, expiry - Duration::minutes(1)).await,
        Summary::default()
    );
    let done = pass(&app, expiry + Duration::minutes(1)).await;
    assert_eq!(done.cancellations_effective, 1);
    assert_eq!(
        done.expired, 0,
        "a product waiting for its cancellation does not expire"
    );
    assert_eq!(
        pass(&app, expiry + Duration::minutes(1)).await,
        Summary::default()
    );
    assert_eq!(
        row(&app, &org.id, &id).await.status,
        ProductStatus::Cancelled
    );
    assert_eq!(activities(&app, &id, "product.cancelled").await, 1);
    // Cancelled, it no longer blocks the deletion.
    assert!(
        !unmet(&app, &s, &org.id)
            .await
            .contains(&"products".to_string())
    );
}

#[tokio::test]
async fn lc_a_cancellation_can_be_withdrawn_before_it_takes_effect() {
    let app = billing_app().await;
    let (owner, s) = app.signed_in("owner@example.ch").await;
    let org = app
        .an_org(&s)
        .with_product(json!([{"offer_id": DOMAIN, "billing_period": "P1Y", "domain_name": fresh_domain("ch")}]))
        .await;
    let id = product_id(&org, 0);
    problem(
        withdraw(&app, &s, &org.id, &id).await,
        409,
        "no_cancellation",
    )
    .await;

    // A request not yet confirmed: withdrawn, its link then confirms nothing.
    let (_, token) = ask_for_link(&app, &s, &owner.email, &org.id, &id, now_body()).await;
    ok(withdraw(&app, &s, &org.id, &id).await, 204).await;
    problem(confirm(&app, &token).await, 400, "invalid_token").await;
    assert_eq!(row(&app, &org.id, &id).await.status, ProductStatus::Active);

    // A newer request replaces the one waiting: only the newest link confirms.
    let body = json!({"when": "end_of_term"});
    let (_, older) = ask_for_link(&app, &s, &owner.email, &org.id, &id, body.clone()).await;
    let (_, newer) = ask_for_link(&app, &s, &owner.email, &org.id, &id, body).await;
    problem(confirm(&app, &older).await, 400, "invalid_token").await;
    ok(confirm(&app, &newer).await, 200).await;
    assert_eq!(
        row(&app, &org.id, &id).await.status,
        ProductStatus::CancellationPending
    );

    // Confirmed for the term's end: withdrawn, the product is active again, auto-renewal off.
    ok(withdraw(&app, &s, &org.id, &id).await, 204).await;
    let p = row(&app, &org.id, &id).await;
    assert_eq!(p.status, ProductStatus::Active);
    assert!(!p.auto_renew);
    assert_eq!(activities(&app, &id, "cancellation.withdrawn").await, 2);
    problem(
        withdraw(&app, &s, &org.id, &id).await,
        409,
        "no_cancellation",
    )
    .await;
    // The expiry job goes on as for any product.
    let expiry = p.expires_at.unwrap();
    assert_eq!(pass(&app, expiry + Duration::minutes(1)).await.expired, 1);
}

#[tokio::test]
async fn r45_a_confirmed_cancellation_is_told_to_the_other_admins_and_legal_representatives() {
    let app = billing_app().await;
    let (owner, s) = app.signed_in("owner@example.ch").await;
    let admin = app.create_user("admin@example.ch").await;
    let legal = app.create_user("legal@example.ch").await;
    let accountant = app.create_user("accountant@example.ch").await;
    let org = app
        .an_org(&s)
        .with_member(&admin, "admin", &[])
        .with_member(&legal, "legal_representative", &[])
        .with_member(&accountant, "member", &["accounting", "products"])
        .with_product(json!([{"offer_id": DOMAIN, "billing_period": "P1Y", "domain_name": fresh_domain("ch")}]))
        .await;
    let id = product_id(&org, 0);
    let (_, token) = ask_for_link(&app, &s, &owner.email, &org.id, &id, now_body()).await;
    // Before the confirmation nobody else hears of it.
    assert!(texts(&app, &admin.email).is_empty());
    ok(confirm(&app, &token).await, 200).await;
    for to in [&admin.email, &legal.email] {
        let text = &wait_texts(&app, to, "confirmed the cancellation", 1).await[0];
        assert!(text.contains("Acme"), "{text}");
    }
    // Not the requester (who confirmed it), not a plain member.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(
        texts(&app, &owner.email)
            .iter()
            .all(|t| !t.contains("confirmed the cancellation"))
    );
    assert!(texts(&app, &accountant.email).is_empty());
}

#[tokio::test]
async fn r44_cancelling_never_cancels_an_open_invoice() {
    let app = billing_app().await;
    let (owner, s) = app.signed_in("owner@example.ch").await;
    let org = app
        .an_org(&s)
        .with_product(json!([{"offer_id": DOMAIN, "billing_period": "P1Y", "domain_name": fresh_domain("ch")}]))
        .with_open_invoice(json!([{"offer_id": "domain-com", "billing_period": "P1Y", "domain_name": fresh_domain("com")}]))
        .await;
    let id = product_id(&org, 0);
    let invoice = org.invoice(1).to_string();
    // R22: the deletion steps say how to cancel the products that block.
    let check = get_json(&app, &s, &format!("/v1/orgs/{}/deletion-check", org.id)).await;
    let products = check["unmet"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["code"] == "products")
        .unwrap();
    assert!(
        products["detail"]
            .as_str()
            .unwrap()
            .contains("request_cancellation"),
        "{products}"
    );

    let (_, token) = ask_for_link(&app, &s, &owner.email, &org.id, &id, now_body()).await;
    ok(confirm(&app, &token).await, 200).await;
    assert_eq!(
        row(&app, &org.id, &id).await.status,
        ProductStatus::Cancelled
    );
    let inv = get_json(&app, &s, &format!("/v1/orgs/{}/invoices/{invoice}", org.id)).await;
    assert_eq!(inv["status"], "open", "{inv}");
    assert!(
        unmet(&app, &s, &org.id)
            .await
            .contains(&"open_invoices".to_string())
    );
}

#[tokio::test]
async fn r46_cancelling_a_product_with_backups_needs_their_deletion_acknowledged() {
    let app = billing_app().await;
    let (owner, s) = app.signed_in("owner@example.ch").await;
    let org = app
        .an_org(&s)
        .with_product(json!([{"offer_id": "web-hosting-starter", "billing_period": "P1Y"}]))
        .await;
    let id = product_id(&org, 0);
    let body = problem(
        ask(&app, &s, &org.id, &id, now_body()).await,
        422,
        "backup_deletion_not_acknowledged",
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "/acknowledge_backup_deletion");
    let refused = json!({"when": "now", "acknowledge_backup_deletion": false});
    problem(
        ask(&app, &s, &org.id, &id, refused).await,
        422,
        "backup_deletion_not_acknowledged",
    )
    .await;
    assert_eq!(activities(&app, &id, "cancellation.requested").await, 0);

    let acknowledged = json!({"when": "now", "acknowledge_backup_deletion": true});
    let (answer, token) = ask_for_link(&app, &s, &owner.email, &org.id, &id, acknowledged).await;
    assert_eq!(answer["backups_deleted_at_cancellation"], true);
    let mail = wait_texts(&app, &owner.email, "deleted for good", 1).await;
    assert_eq!(mail.len(), 1);
    let confirmed = ok(confirm(&app, &token).await, 200).await;
    assert_eq!(confirmed["backups_deleted_at_cancellation"], true);
}

#[tokio::test]
async fn lc_a_bundled_product_is_cancelled_only_with_its_bundle() {
    let app = billing_app().await;
    let (owner, s) = app.signed_in("owner@example.ch").await;
    let org = app
        .an_org(&s)
        .with_product(json!([{"offer_id": "web-hosting-pack", "billing_period": "P1Y"}]))
        .with_product(json!([{"offer_id": "ssl-dv", "billing_period": "P1Y"}]))
        .await;
    let (pack, ssl) = (product_id(&org, 0), product_id(&org, 1));
    // The certificate comes with the pack.
    let (p, i) = (pack.clone(), ssl.clone());
    app.with_conn(move |c| {
        use leman::db::schema::products as pr;
        diesel::update(pr::table.find(i))
            .set(pr::bundle_id.eq(Some(p)))
            .execute(c)
            .unwrap()
    })
    .await;
    problem(
        ask(&app, &s, &org.id, &ssl, now_body()).await,
        409,
        "bundled_product",
    )
    .await;

    let body = json!({"when": "now", "acknowledge_backup_deletion": true});
    let (_, token) = ask_for_link(&app, &s, &owner.email, &org.id, &pack, body).await;
    let confirmed = ok(confirm(&app, &token).await, 200).await;
    assert_eq!(confirmed["product_status"], "cancelled");
    assert_eq!(
        row(&app, &org.id, &pack).await.status,
        ProductStatus::Cancelled
    );
    let included = row(&app, &org.id, &ssl).await;
    assert_eq!(
        included.status,
        ProductStatus::Cancelled,
        "it follows its bundle"
    );
    assert!(!included.auto_renew);
}

#[tokio::test]
async fn lc_included_products_follow_their_bundle_through_expiry() {
    let app = billing_app().await;
    let (_, s) = app.signed_in("owner@example.ch").await;
    let org = app
        .an_org(&s)
        .with_product(json!([{"offer_id": "web-hosting-pack", "billing_period": "P1Y"}]))
        .with_product(json!([{"offer_id": "ssl-dv", "billing_period": "P1Y"}]))
        .await;
    let (pack, ssl) = (product_id(&org, 0), product_id(&org, 1));
    let (p, i) = (pack.clone(), ssl.clone());
    app.with_conn(move |c| {
        use leman::db::schema::products as pr;
        diesel::update(pr::table.find(i))
            .set(pr::bundle_id.eq(Some(p)))
            .execute(c)
            .unwrap()
    })
    .await;
    let expiry = row(&app, &org.id, &pack).await.expires_at.unwrap();
    let done = pass(&app, expiry + Duration::minutes(1)).await;
    assert_eq!(done.expired, 1, "the bundle alone is counted: {done:?}");
    assert_eq!(
        row(&app, &org.id, &ssl).await.status,
        ProductStatus::Expired
    );
}

#[tokio::test]
async fn lc_only_active_expired_or_suspended_products_can_be_cancelled_by_holders_of_products() {
    let app = billing_app().await;
    let (_, s) = app.signed_in("owner@example.ch").await;
    let (accountant, a) = app.signed_in("accountant@example.ch").await;
    let org = app
        .an_org(&s)
        .with_member(&accountant, "member", &["accounting"])
        .with_product(json!([{"offer_id": DOMAIN, "billing_period": "P1Y", "domain_name": fresh_domain("ch")}]))
        .with_open_invoice(json!([{"offer_id": DOMAIN, "billing_period": "P1Y", "domain_name": fresh_domain("ch")}]))
        .await;
    let (active, unpaid) = (product_id(&org, 0), product_id(&org, 1));
    problem(
        ask(&app, &a, &org.id, &active, now_body()).await,
        403,
        "permission_denied",
    )
    .await;
    problem(
        withdraw(&app, &a, &org.id, &active).await,
        403,
        "permission_denied",
    )
    .await;
    problem(
        ask(&app, &s, &org.id, &unpaid, now_body()).await,
        409,
        "product_not_cancellable",
    )
    .await;
    let long = json!({"when": "now", "reason": "x".repeat(501)});
    let body = problem(
        ask(&app, &s, &org.id, &active, long).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "/reason");
    let missing = format!("prd_{}", "0".repeat(32));
    problem(
        ask(&app, &s, &org.id, &missing, now_body()).await,
        404,
        "not_found",
    )
    .await;

    // An expired product can still be cancelled.
    let expiry = row(&app, &org.id, &active).await.expires_at.unwrap();
    pass(&app, expiry + Duration::days(1)).await;
    let (owner_email, product) = ("owner@example.ch", active.clone());
    let (answer, token) = ask_for_link(
        &app,
        &s,
        owner_email,
        &org.id,
        &product,
        json!({"when": "end_of_term"}),
    )
    .await;
    assert_eq!(answer["product_status"], "expired");
    let confirmed = ok(confirm(&app, &token).await, 200).await;
    assert_eq!(
        confirmed["product_status"], "cancelled",
        "its term is over: cancelled at once"
    );
}

/// For `activity_record`: sets up what a cancellation route needs, makes one successful call and
/// returns how many activity rows it added.
pub async fn activity_scenario(app: &TestApp, operation: &str, email: &str) -> i64 {
    async fn count(app: &TestApp) -> i64 {
        app.with_conn(|c| {
            leman::db::schema::activities::table
                .count()
                .get_result::<i64>(c)
                .unwrap()
        })
        .await
    }
    let (_, s) = app.signed_in(email).await;
    let org = app
        .an_org(&s)
        .with_product(json!([{"offer_id": DOMAIN, "billing_period": "P1Y", "domain_name": fresh_domain("ch")}]))
        .await;
    let id = product_id(&org, 0);
    let body = json!({"when": "end_of_term"});
    if operation == "request_cancellation" {
        let before = count(app).await;
        ok(ask(app, &s, &org.id, &id, body).await, 202).await;
        return count(app).await - before;
    }
    let (_, token) = ask_for_link(app, &s, email, &org.id, &id, body).await;
    let before = count(app).await;
    if operation == "confirm_cancellation" {
        ok(confirm(app, &token).await, 200).await;
    } else {
        ok(withdraw(app, &s, &org.id, &id).await, 204).await;
    }
    count(app).await - before
}

#[tokio::test]
async fn lc_two_passes_racing_move_each_product_once() {
    let app = billing_app().await;
    let (_, s) = app.signed_in("owner@example.ch").await;
    let org = app
        .an_org(&s)
        .with_product(json!([{"offer_id": DOMAIN, "billing_period": "P1Y", "domain_name": fresh_domain("ch")}]))
        .with_product(json!([{"offer_id": "domain-com", "billing_period": "P1Y", "domain_name": fresh_domain("com")}]))
        .await;
    let (a, b) = (product_id(&org, 0), product_id(&org, 1));
    let expiry = row(&app, &org.id, &a).await.expires_at.unwrap();
    let at = expiry + Duration::days(1);
    let (one, two) = tokio::join!(pass(&app, at), pass(&app, at));
    assert_eq!(one.expired + two.expired, 2, "{one:?} {two:?}");
    for id in [&a, &b] {
        assert_eq!(row(&app, &org.id, id).await.status, ProductStatus::Expired);
        assert_eq!(activities(&app, id, "product.expired").await, 1);
    }
}

#[tokio::test]
async fn lc_a_link_used_twice_at_once_confirms_once() {
    let app = billing_app().await;
    let (owner, s) = app.signed_in("owner@example.ch").await;
    let org = app
        .an_org(&s)
        .with_product(json!([{"offer_id": DOMAIN, "billing_period": "P1Y", "domain_name": fresh_domain("ch")}]))
        .await;
    let id = product_id(&org, 0);
    let (_, token) = ask_for_link(&app, &s, &owner.email, &org.id, &id, now_body()).await;
    let (x, y) = tokio::join!(confirm(&app, &token), confirm(&app, &token));
    let mut statuses = [x.status().as_u16(), y.status().as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 400]);
    assert_eq!(activities(&app, &id, "cancellation.confirmed").await, 1);
}
