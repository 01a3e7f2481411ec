//! Auto-renewal (R39–R41) and the renewal scheduler (R40; issue 11 parts 4 and 5): the setting
//! per product and in bulk, the scheduler's first attempt 14 days before expiry, retries, hard
//! and soft declines, reminders, exactly one charge and one extension with two passes racing and
//! after the process died between the charge and its commit.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use leman::db::schema::{mails, products, renewals};
use leman::services::renewal_scheduler::{self, Report};
use reqwest::Method;
use serde_json::json;

use crate::helpers::fresh_domain;
use crate::helpers::{TestApp, TestOrg, TestSession, billing_app, get_json, ok, problem, send};

const DOMAIN: &str = "domain-ch";

fn now() -> NaiveDateTime {
    leman::db::truncate(leman::db::now())
}

async fn product_ids(app: &TestApp, s: &TestSession, org: &str) -> Vec<String> {
    let v = get_json(app, s, &format!("/v1/orgs/{org}/products")).await;
    let mut ids: Vec<String> = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids
}

async fn set_expiry(app: &TestApp, id: &str, at: NaiveDateTime) {
    let id = id.to_string();
    app.with_conn(move |c| {
        diesel::update(products::table.find(&id))
            .set(products::expires_at.eq(Some(at)))
            .execute(c)
            .unwrap()
    })
    .await;
}

/// (expiry, auto_renew, the card paying it).
async fn state(app: &TestApp, id: &str) -> (NaiveDateTime, bool, Option<String>) {
    let id = id.to_string();
    app.with_conn(move |c| {
        products::table
            .find(&id)
            .select((
                products::expires_at,
                products::auto_renew,
                products::auto_renew_payment_method_id,
            ))
            .first::<(Option<NaiveDateTime>, bool, Option<String>)>(c)
            .map(|(e, a, m)| (e.unwrap(), a, m))
            .unwrap()
    })
    .await
}

/// The product's renewals: (status, attempts, next attempt, last failure).
async fn renewals_of(
    app: &TestApp,
    id: &str,
) -> Vec<(String, i32, Option<NaiveDateTime>, Option<String>)> {
    let id = id.to_string();
    app.with_conn(move |c| {
        renewals::table
            .filter(renewals::product_id.eq(&id))
            .select((
                renewals::status,
                renewals::attempts,
                renewals::next_attempt_at,
                renewals::last_failure,
            ))
            .load(c)
            .unwrap()
    })
    .await
}

/// How many charges the sandbox provider made.
async fn charges(app: &TestApp) -> i64 {
    app.with_conn(|c| leman::models::sandbox_charges::count(c).unwrap())
        .await
}

/// The subjects of the renewal mails queued for `to`.
async fn notices_to(app: &TestApp, to: &str) -> Vec<String> {
    let to = to.to_string();
    app.with_conn(move |c| {
        mails::table
            .filter(mails::to_address.eq(&to))
            .filter(mails::template.eq("renewal_notice"))
            .order(mails::created_at.asc())
            .select(mails::subject)
            .load(c)
            .unwrap()
    })
    .await
}

async fn pass(app: &TestApp, at: NaiveDateTime) -> Report {
    renewal_scheduler::run(&app.services, at).await.unwrap()
}

fn auto_renewal_path(org: &str, product: &str) -> String {
    format!("/v1/orgs/{org}/products/{product}/auto-renewal")
}

/// An organisation with one domain bought by card (auto-renewal on with it: R39).
async fn org_with_domain(app: &TestApp, s: &TestSession) -> (TestOrg, String) {
    let org = app
        .an_org(s)
        .with_product(json!([{"offer_id": DOMAIN, "billing_period": "P1Y", "domain_name": fresh_domain("ch")}]))
        .await;
    let product = product_ids(app, s, &org.id).await.remove(0);
    (org, product)
}

/// Saves the card `token` and makes it pay the product's auto-renewal.
async fn pay_with(app: &TestApp, s: &TestSession, org: &str, product: &str, token: &str) -> String {
    let card = app
        .add_payment_method(s, org, json!({"type": "card", "token": token}))
        .await;
    let body = json!({"enabled": true, "payment_method_id": card});
    ok(
        send(
            app,
            Method::PUT,
            &auto_renewal_path(org, product),
            s,
            Some(body),
        )
        .await,
        200,
    )
    .await;
    card
}

#[tokio::test]
async fn r39_auto_renewal_turns_on_after_a_card_paid_order_and_not_after_prepaid() {
    let app = billing_app().await;
    let (_, s) = app.signed_in("ar-r39@example.com").await;
    let (org, product) = org_with_domain(&app, &s).await;
    let (_, on, card) = state(&app, &product).await;
    assert!(on, "paid by card: auto-renewal on");
    assert_eq!(card.as_deref(), Some(org.card()));
    let view = get_json(&app, &s, &format!("/v1/orgs/{}/products/{product}", org.id)).await;
    assert_eq!(view["auto_renew"], true);

    let funded = app.an_org(&s).named("Prepaid").funded("100.00").await;
    let order = app
        .order(
            &s,
            &funded.id,
            json!([{"offer_id": DOMAIN, "billing_period": "P1Y", "domain_name": fresh_domain("ch")}]),
        )
        .await;
    let path = format!(
        "/v1/orgs/{}/orders/{}/payments",
        funded.id,
        order["id"].as_str().unwrap()
    );
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
    let prepaid_product = product_ids(&app, &s, &funded.id).await.remove(0);
    app.wait_until_provisioned(&s, &funded.id, &prepaid_product)
        .await;
    assert!(
        !state(&app, &prepaid_product).await.1,
        "paid from prepaid: off"
    );
}

#[tokio::test]
async fn ar_auto_renewal_needs_a_saved_card() {
    let app = billing_app().await;
    let (_, s) = app.signed_in("ar-card@example.com").await;
    let (org, product) = org_with_domain(&app, &s).await;
    let path = auto_renewal_path(&org.id, &product);
    // Off is always allowed.
    let v = ok(
        send(
            &app,
            Method::PUT,
            &path,
            &s,
            Some(json!({"enabled": false})),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(v["auto_renew"], false);
    // The prepaid account as default, nothing named: no card.
    let default = format!("/v1/orgs/{}/payment-methods/prepaid/default", org.id);
    ok(send(&app, Method::POST, &default, &s, None).await, 204).await;
    let res = send(&app, Method::PUT, &path, &s, Some(json!({"enabled": true}))).await;
    let body = problem(res, 422, "auto_renewal_needs_card").await;
    assert_eq!(body["errors"][0]["field"], "/payment_method_id");
    // TWINT named, or TWINT as the default: not a card.
    let twint = app
        .add_payment_method(&s, &org.id, json!({"type": "twint"}))
        .await;
    let res = send(
        &app,
        Method::PUT,
        &path,
        &s,
        Some(json!({"enabled": true, "payment_method_id": twint})),
    )
    .await;
    problem(res, 422, "auto_renewal_needs_card").await;
    let default = format!("/v1/orgs/{}/payment-methods/{twint}/default", org.id);
    ok(send(&app, Method::POST, &default, &s, None).await, 204).await;
    let res = send(&app, Method::PUT, &path, &s, Some(json!({"enabled": true}))).await;
    problem(res, 422, "auto_renewal_needs_card").await;
    assert!(!state(&app, &product).await.1);
    // The card as default: omitted, it pays.
    let default = format!("/v1/orgs/{}/payment-methods/{}/default", org.id, org.card());
    ok(send(&app, Method::POST, &default, &s, None).await, 204).await;
    let v = ok(
        send(&app, Method::PUT, &path, &s, Some(json!({"enabled": true}))).await,
        200,
    )
    .await;
    assert_eq!(v["auto_renew"], true);
    assert_eq!(state(&app, &product).await.2.as_deref(), Some(org.card()));
}

#[tokio::test]
async fn r41_auto_renewal_is_refused_within_14_days_of_expiry_on_both_sides_of_the_edge() {
    let app = billing_app().await;
    let (_, s) = app.signed_in("ar-r41@example.com").await;
    let (org, product) = org_with_domain(&app, &s).await;
    let path = auto_renewal_path(&org.id, &product);
    let on = json!({"enabled": true, "payment_method_id": org.card()});
    ok(
        send(
            &app,
            Method::PUT,
            &path,
            &s,
            Some(json!({"enabled": false})),
        )
        .await,
        200,
    )
    .await;
    set_expiry(
        &app,
        &product,
        now() + Duration::days(14) - Duration::hours(1),
    )
    .await;
    let res = send(&app, Method::PUT, &path, &s, Some(on.clone())).await;
    let body = problem(res, 409, "auto_renewal_too_late").await;
    assert!(body["detail"].as_str().unwrap().contains("Renew it first"));
    assert!(!state(&app, &product).await.1);
    set_expiry(
        &app,
        &product,
        now() + Duration::days(14) + Duration::hours(1),
    )
    .await;
    let v = ok(send(&app, Method::PUT, &path, &s, Some(on)).await, 200).await;
    assert_eq!(v["auto_renew"], true);
    // Off within 14 days: always allowed.
    set_expiry(&app, &product, now() + Duration::days(2)).await;
    let v = ok(
        send(
            &app,
            Method::PUT,
            &path,
            &s,
            Some(json!({"enabled": false})),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(v["auto_renew"], false);
}

#[tokio::test]
async fn ar_bulk_setting_is_all_or_nothing_with_per_item_errors() {
    let app = billing_app().await;
    let (_, s) = app.signed_in("ar-bulk@example.com").await;
    let org = app
        .an_org(&s)
        .with_product(
            json!([{"offer_id": DOMAIN, "billing_period": "P1Y", "domain_name": fresh_domain("ch")},
            {"offer_id": "domain-li", "billing_period": "P1Y", "domain_name": fresh_domain("li")}]),
        )
        .await;
    let ids = product_ids(&app, &s, &org.id).await;
    let path = format!("/v1/orgs/{}/renewals/auto-renewal", org.id);
    let v = ok(
        send(
            &app,
            Method::POST,
            &path,
            &s,
            Some(json!({"product_ids": ids, "enabled": false})),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(v["data"].as_array().unwrap().len(), 2);
    assert!(!state(&app, &ids[0]).await.1 && !state(&app, &ids[1]).await.1);
    set_expiry(&app, &ids[1], now() + Duration::days(5)).await;
    let body = json!({"product_ids": [ids[0], ids[1], "prd_01936d7a6b2f7c3e9d4a5b6c7d8e9f99", ids[0]],
        "enabled": true, "payment_method_id": org.card()});
    let res = send(&app, Method::POST, &path, &s, Some(body)).await;
    let v = problem(res, 422, "validation_failed").await;
    let errors: Vec<(String, String)> = v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["field"].as_str().unwrap().to_string(),
                e["code"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        errors,
        vec![
            ("/product_ids/1".into(), "auto_renewal_too_late".into()),
            ("/product_ids/2".into(), "unknown_product".into()),
            ("/product_ids/3".into(), "duplicate_item".into()),
        ]
    );
    assert!(!state(&app, &ids[0]).await.1, "nothing changed");
    let res = send(
        &app,
        Method::POST,
        &path,
        &s,
        Some(json!({"product_ids": [ids[0]], "enabled": true, "payment_method_id": "prepaid"})),
    )
    .await;
    problem(res, 422, "auto_renewal_needs_card").await;
    let v = ok(
        send(
            &app,
            Method::POST,
            &path,
            &s,
            Some(
                json!({"product_ids": [ids[0]], "enabled": true, "payment_method_id": org.card()}),
            ),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(v["data"][0]["auto_renew"], true);
}

#[tokio::test]
async fn ar_members_without_accounting_are_refused() {
    let app = billing_app().await;
    let (_, s) = app.signed_in("ar-403-owner@example.com").await;
    let (member, ms) = app.signed_in("ar-403-member@example.com").await;
    let (org, product) = org_with_domain(&app, &s).await;
    app.add_member(&org.id, &member.id, "member", &["products"])
        .await;
    let res = send(
        &app,
        Method::PUT,
        &auto_renewal_path(&org.id, &product),
        &ms,
        Some(json!({"enabled": false})),
    )
    .await;
    problem(res, 403, "permission_denied").await;
    let res = send(
        &app,
        Method::POST,
        &format!("/v1/orgs/{}/renewals/auto-renewal", org.id),
        &ms,
        Some(json!({"product_ids": [product], "enabled": false})),
    )
    .await;
    problem(res, 403, "permission_denied").await;
    assert!(state(&app, &product).await.1);
}

#[tokio::test]
async fn r40_the_first_charge_is_made_14_days_before_expiry_once_and_extends_once() {
    let app = billing_app().await;
    let (_, s) = app.signed_in("ar-r40@example.com").await;
    let (accountant, _) = app.signed_in("ar-r40-acc@example.com").await;
    let (org, product) = org_with_domain(&app, &s).await;
    app.add_member(&org.id, &accountant.id, "member", &["accounting"])
        .await;
    let expiry = now() + Duration::days(40);
    set_expiry(&app, &product, expiry).await;
    let before = charges(&app).await;
    // Nothing before D-14.
    let r = pass(&app, expiry - Duration::days(14) - Duration::hours(1)).await;
    assert_eq!((r.ordered, r.charged), (0, 0), "{r:?}");
    assert!(renewals_of(&app, &product).await.is_empty());
    assert_eq!(charges(&app).await, before);
    // At D-14: one order, one charge, one extension by the period (P1Y).
    let at = expiry - Duration::days(14) + Duration::hours(1);
    let r = pass(&app, at).await;
    assert_eq!((r.ordered, r.charged, r.renewed), (1, 1, 1), "{r:?}");
    assert_eq!(charges(&app).await, before + 1);
    let extended = expiry.checked_add_months(chrono::Months::new(12)).unwrap();
    assert_eq!(state(&app, &product).await.0, extended);
    let rows = renewals_of(&app, &product).await;
    assert_eq!(rows.len(), 1);
    assert_eq!((rows[0].0.as_str(), rows[0].1), ("applied", 1));
    // Again, and at the retry stages: nothing more.
    for later in [at, at + Duration::days(4), expiry - Duration::days(1)] {
        let r = pass(&app, later).await;
        assert_eq!((r.ordered, r.charged), (0, 0), "{r:?}");
    }
    assert_eq!(charges(&app).await, before + 1);
    assert_eq!(state(&app, &product).await.0, extended);
    // The accounting member is told (the payer has the payments' receipt).
    let notices = notices_to(&app, &accountant.email).await;
    assert_eq!(notices.len(), 1, "{notices:?}");
    assert!(notices[0].contains("renewed automatically"), "{notices:?}");
    app.wait_for_mail_containing("ar-r40@example.com", "received a payment")
        .await;
}

#[tokio::test]
async fn ar_a_soft_decline_is_retried_at_10_7_3_and_1_days() {
    let app = billing_app().await;
    let (_, s) = app.signed_in("ar-soft@example.com").await;
    let (org, product) = org_with_domain(&app, &s).await;
    pay_with(&app, &s, &org.id, &product, "tok_visa_insufficient_funds").await;
    let expiry = now() + Duration::days(40);
    set_expiry(&app, &product, expiry).await;
    let before = charges(&app).await;
    let day = |d: i64| expiry - Duration::days(d) + Duration::minutes(5);
    let r = pass(&app, day(14)).await;
    assert_eq!((r.ordered, r.charged, r.failed), (1, 1, 1), "{r:?}");
    let rows = renewals_of(&app, &product).await;
    assert_eq!(rows[0].1, 1);
    assert_eq!(rows[0].2, Some(expiry - Duration::days(10)));
    assert_eq!(rows[0].3.as_deref(), Some("insufficient_funds"));
    // Between stages: nothing.
    let r = pass(&app, day(12)).await;
    assert_eq!(r.charged, 0, "{r:?}");
    for (n, d) in [(2, 10), (3, 7), (4, 3), (5, 1)] {
        let r = pass(&app, day(d)).await;
        assert_eq!(r.charged, 1, "D-{d}: {r:?}");
        assert_eq!(renewals_of(&app, &product).await[0].1, n);
    }
    assert_eq!(
        renewals_of(&app, &product).await[0].2,
        None,
        "no stage left"
    );
    assert_eq!(charges(&app).await, before + 5);
    assert!(
        state(&app, &product).await.1,
        "a soft decline keeps auto-renewal"
    );
    assert_eq!(state(&app, &product).await.0, expiry, "not extended");
    let notices = notices_to(&app, "ar-soft@example.com").await;
    assert_eq!(notices.len(), 5, "a mail per failure: {notices:?}");
    assert!(notices[0].contains("the charge failed"));
}

#[tokio::test]
async fn ar_a_hard_decline_stops_the_retries_and_turns_auto_renewal_off() {
    let app = billing_app().await;
    let (_, s) = app.signed_in("ar-hard@example.com").await;
    let (accountant, _) = app.signed_in("ar-hard-acc@example.com").await;
    let (other, _) = app.signed_in("ar-hard-other@example.com").await;
    let (org, product) = org_with_domain(&app, &s).await;
    app.add_member(&org.id, &accountant.id, "member", &["accounting"])
        .await;
    app.add_member(&org.id, &other.id, "member", &["products"])
        .await;
    pay_with(&app, &s, &org.id, &product, "tok_visa_decline").await;
    let expiry = now() + Duration::days(40);
    set_expiry(&app, &product, expiry).await;
    let before = charges(&app).await;
    let r = pass(&app, expiry - Duration::days(13)).await;
    assert_eq!((r.charged, r.stopped), (1, 1), "{r:?}");
    let rows = renewals_of(&app, &product).await;
    assert_eq!((rows[0].1, rows[0].2), (1, None));
    assert_eq!(rows[0].3.as_deref(), Some("card_declined"));
    assert!(!state(&app, &product).await.1, "auto-renewal off");
    let r = pass(&app, expiry - Duration::days(10)).await;
    assert_eq!(r.charged, 0, "{r:?}");
    assert_eq!(charges(&app).await, before + 1);
    for to in ["ar-hard@example.com", accountant.email.as_str()] {
        let notices = notices_to(&app, to).await;
        let stopped: Vec<&String> = notices.iter().filter(|n| n.contains("stopped")).collect();
        assert_eq!(stopped.len(), 1, "{to}: {notices:?}");
        assert!(notices[0].contains("stopped"), "{notices:?}");
        // Without auto-renewal now, the product is reminded of like any other.
        assert!(
            notices
                .iter()
                .all(|n| n.contains("stopped") || n.contains("expires on"))
        );
    }
    assert!(notices_to(&app, &other.email).await.is_empty());
    app.wait_for_mail_containing(&accountant.email, "card_declined")
        .await;
}

#[tokio::test]
async fn ar_products_without_auto_renewal_are_reminded_30_and_7_days_before_once_each() {
    let app = billing_app().await;
    let (_, s) = app.signed_in("ar-remind@example.com").await;
    let (org, product) = org_with_domain(&app, &s).await;
    ok(
        send(
            &app,
            Method::PUT,
            &auto_renewal_path(&org.id, &product),
            &s,
            Some(json!({"enabled": false})),
        )
        .await,
        200,
    )
    .await;
    let expiry = now() + Duration::days(60);
    set_expiry(&app, &product, expiry).await;
    let to = "ar-remind@example.com";
    let mut expected = 0;
    for (days, sends) in [
        (31, false),
        (29, true),
        (28, false),
        (8, false),
        (6, true),
        (5, false),
        (1, false),
        (-2, true),
        (-3, false),
        (-7, false),
    ] {
        let r = pass(&app, expiry - Duration::days(days)).await;
        expected += sends as usize;
        assert_eq!(r.reminded, sends as usize, "D-{days}: {r:?}");
        assert_eq!(notices_to(&app, to).await.len(), expected, "D-{days}");
        assert_eq!(r.charged, 0);
    }
    let text = app.wait_for_mail_containing(to, "in 29 days").await;
    assert!(text.contains("Automatic renewal is off"), "{text}");
}

#[tokio::test]
async fn ar_two_concurrent_passes_make_one_order_one_charge_one_extension() {
    let app = billing_app().await;
    let (_, s) = app.signed_in("ar-race@example.com").await;
    let (_, product) = org_with_domain(&app, &s).await;
    let expiry = now() + Duration::days(20);
    set_expiry(&app, &product, expiry).await;
    let before = charges(&app).await;
    let at = expiry - Duration::days(13);
    let (a, b) = (app.services.clone(), app.services.clone());
    let one = tokio::spawn(async move { renewal_scheduler::run(&a, at).await });
    let two = tokio::spawn(async move { renewal_scheduler::run(&b, at).await });
    let (one, two) = (one.await.unwrap(), two.await.unwrap());
    let (one, two) = (one.unwrap(), two.unwrap());
    assert_eq!(one.ordered + two.ordered, 1, "{one:?} {two:?}");
    assert_eq!(charges(&app).await, before + 1);
    assert_eq!(renewals_of(&app, &product).await.len(), 1);
    let extended = expiry.checked_add_months(chrono::Months::new(12)).unwrap();
    assert_eq!(state(&app, &product).await.0, extended);
}

#[tokio::test]
async fn ar_a_pass_killed_between_the_charge_and_its_commit_is_reconciled_without_a_second_charge()
{
    let app = billing_app().await;
    let (_, s) = app.signed_in("ar-crash@example.com").await;
    let (_, product) = org_with_domain(&app, &s).await;
    let expiry = now() + Duration::days(10);
    set_expiry(&app, &product, expiry).await;
    let before = charges(&app).await;
    let out = app.cli(
        &["jobs", "run", "renew_due_products"],
        &[(renewal_scheduler::FAULT_AFTER_CHARGE, "abort")],
    );
    assert!(!out.status.success(), "the fault aborts the pass");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("aborting after the charge"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(charges(&app).await, before + 1, "charged once");
    assert_eq!(state(&app, &product).await.0, expiry, "not recorded");
    // A pass right away leaves the charge alone (it may be a live pass's).
    let r = pass(&app, now()).await;
    assert_eq!((r.reconciled, r.charged), (0, 0), "{r:?}");
    // The restart: the pending charge is asked again with its key, recorded, applied once.
    let r = pass(&app, now() + Duration::minutes(3)).await;
    assert_eq!((r.reconciled, r.renewed, r.charged), (1, 1, 0), "{r:?}");
    assert_eq!(charges(&app).await, before + 1, "never a second charge");
    let extended = expiry.checked_add_months(chrono::Months::new(12)).unwrap();
    assert_eq!(state(&app, &product).await.0, extended);
    let r = pass(&app, now() + Duration::minutes(10)).await;
    assert_eq!(r, Report::default());
    assert_eq!(state(&app, &product).await.0, extended);
    // And the command itself, without the fault: exit 0.
    let out = app.cli(&["jobs", "run", "renew_due_products"], &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn ar_jobs_run_with_an_unknown_kind_fails_listing_the_kinds() {
    let app = TestApp::spawn().await;
    let out = app.cli(&["jobs", "run", "no_such_job"], &[]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("renew_due_products") && err.contains("expire_orders"),
        "{err}"
    );
    let out = app.cli(&["jobs", "run", "expire_orders"], &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn ar_removing_the_card_turns_auto_renewal_off_and_tells_accounting() {
    let app = billing_app().await;
    let (_, s) = app.signed_in("ar-delete@example.com").await;
    let (accountant, _) = app.signed_in("ar-delete-acc@example.com").await;
    let (org, product) = org_with_domain(&app, &s).await;
    app.add_member(&org.id, &accountant.id, "member", &["accounting"])
        .await;
    assert!(state(&app, &product).await.1);
    let path = format!("/v1/orgs/{}/payment-methods/{}", org.id, org.card());
    ok(send(&app, Method::DELETE, &path, &s, None).await, 204).await;
    let (_, on, card) = state(&app, &product).await;
    assert!(!on && card.is_none());
    for to in ["ar-delete@example.com", accountant.email.as_str()] {
        let notices = notices_to(&app, to).await;
        assert_eq!(notices.len(), 1, "{notices:?}");
        assert!(notices[0].contains("turned off"), "{notices:?}");
    }
    // The scheduler has nothing to charge.
    let expiry = state(&app, &product).await.0;
    let r = pass(&app, expiry - Duration::days(13)).await;
    assert_eq!(r.charged, 0, "{r:?}");
    let acts = get_json(&app, &s, &format!("/v1/orgs/{}/activities", org.id)).await;
    assert!(acts.to_string().contains("auto_renewal.disabled"), "{acts}");
}

/// Issue 14: a failed automatic charge publishes `renewal.failed` to the endpoints that want it,
/// with the failure and the next attempt (none after a hard decline).
#[tokio::test]
async fn ar_a_failed_charge_publishes_renewal_failed() {
    use leman::db::schema::webhook_deliveries;
    let app = billing_app().await;
    let (_, s) = app.signed_in("ar-webhook@example.com").await;
    let (org, product) = org_with_domain(&app, &s).await;
    // A literal public address: accepted without a DNS lookup (nothing is delivered here).
    let hook = json!({"url": "https://1.1.1.1/leman", "event_types": ["renewal.failed"]});
    let path = format!("/v1/orgs/{}/webhook-endpoints", org.id);
    ok(send(&app, Method::POST, &path, &s, Some(hook)).await, 201).await;
    pay_with(&app, &s, &org.id, &product, "tok_visa_insufficient_funds").await;
    let expiry = now() + Duration::days(40);
    set_expiry(&app, &product, expiry).await;
    // A closure returning a future that borrows its argument does not type-check: a fn does.
    async fn failed(app: &TestApp, org: &str) -> Vec<String> {
        let org = org.to_string();
        app.with_conn(move |c| {
            webhook_deliveries::table
                .filter(webhook_deliveries::organization_id.eq(&org))
                .filter(webhook_deliveries::event_type.eq("renewal.failed"))
                .order(webhook_deliveries::created_at.asc())
                .select(webhook_deliveries::payload)
                .load::<String>(c)
                .unwrap()
        })
        .await
    }
    assert!(
        failed(&app, &org.id).await.is_empty(),
        "nothing before the pass"
    );
    let r = pass(&app, expiry - Duration::days(14) + Duration::minutes(5)).await;
    assert_eq!(r.failed, 1, "{r:?}");
    let payloads = failed(&app, &org.id).await;
    assert_eq!(payloads.len(), 1, "{payloads:?}");
    let body: serde_json::Value = serde_json::from_str(&payloads[0]).unwrap();
    assert_eq!(body["type"], "renewal.failed");
    let data = &body["data"];
    // The product as get_product shows it right after the pass, the failure under `change`.
    let shown = get_json(&app, &s, &format!("/v1/orgs/{}/products/{product}", org.id)).await;
    crate::webhooks::assert_data_is_the_view(data, &shown, &org.id, &product);
    let change = &data["change"];
    assert_eq!(change["failure"], "insufficient_funds");
    assert!(
        change["renewal_id"].as_str().unwrap().starts_with("rnw_"),
        "{data}"
    );
    assert!(
        change["next_attempt_at"].is_string(),
        "a soft decline is retried: {data}"
    );
    crate::webhooks::assert_valid_payload(&app, &body).await;
}

/// Contract finding: a malformed `payment_method_id` is refused even when turning auto-renewal
/// off (it was ignored and the request answered 200).
#[tokio::test]
async fn ar_a_malformed_payment_method_id_is_refused_on_or_off() {
    let app = billing_app().await;
    let (_, s) = app.signed_in("ar-malformed@example.com").await;
    let (org, product) = org_with_domain(&app, &s).await;
    for (enabled, code) in [
        (false, "validation_failed"),
        (true, "auto_renewal_needs_card"),
    ] {
        let body = json!({"enabled": enabled, "payment_method_id": "@>\tnot-an-id"});
        let res = send(
            &app,
            Method::PUT,
            &auto_renewal_path(&org.id, &product),
            &s,
            Some(body),
        )
        .await;
        let problem = problem(res, 422, code).await;
        assert_eq!(
            problem["errors"][0]["field"], "/payment_method_id",
            "{problem}"
        );
    }
}
