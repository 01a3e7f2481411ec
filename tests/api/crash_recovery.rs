//! A request killed between the provider's charge and its record (found by the fault harness,
//! scripts/fault-test.sh): the payment stayed `pending` without a provider reference for good
//! (money taken, top-up never credited, the invoice held by a payment that never settles),
//! until `expire_orders` failed it after `LEMAN_PAYMENT_PENDING_DAYS` with the money kept.
//! The renewal scheduler's pass now reconciles such charges by their key, charging nothing.
//!
//! The crashed state is made as the dead request left it: its first transaction (the pending
//! payment) and the provider's charge, without the record of the answer.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use leman::db::schema::payments;
use leman::domain::billing_states::{MethodType, PaymentMethodKind, PaymentPurpose, PaymentStatus};
use leman::gateway::{Charge, ChargeOutcome};
use leman::models::payments::Payment;
use leman::services::renewal_scheduler;
use reqwest::Method;
use serde_json::json;

use crate::helpers::{
    TestApp, TestOrg, TestSession, billing_app, card, get_json, ledger_sum_and_balance, ok, send,
};

fn now() -> NaiveDateTime {
    leman::db::truncate(leman::db::now())
}

/// The dead request's first transaction: a pending card payment of `amount_minor`.
async fn pending_card_payment(
    app: &TestApp,
    org: &str,
    card: &str,
    invoice: Option<&str>,
    amount_minor: i64,
    user: &str,
) -> Payment {
    let p = Payment {
        id: leman::db::new_id("pay"),
        organization_id: org.to_string(),
        invoice_id: invoice.map(str::to_string),
        purpose: if invoice.is_some() {
            PaymentPurpose::Invoice
        } else {
            PaymentPurpose::TopUp
        },
        method: PaymentMethodKind::PaymentMethod,
        payment_method_id: Some(card.to_string()),
        amount_minor,
        currency: "CHF".into(),
        status: PaymentStatus::Pending,
        gateway_reference: None,
        failure_code: None,
        refunded_minor: 0,
        created_by: user.to_string(),
        created_at: now(),
        settled_at: None,
        pro_forma_id: None,
    };
    let row = p.clone();
    app.with_conn(move |c| leman::models::payments::insert(c, &row).unwrap())
        .await;
    p
}

/// The provider's charge of `p` (approved: `tok_visa`), whose answer the request never recorded.
fn charge(app: &TestApp, p: &Payment) {
    let outcome = app
        .services
        .gateway
        .charge(&Charge {
            method_type: MethodType::Card,
            token: Some("tok_visa"),
            amount: rust_decimal::Decimal::new(p.amount_minor, 2),
            currency: "CHF",
            payment_id: &p.id,
        })
        .unwrap();
    assert!(matches!(outcome, ChargeOutcome::Approved { .. }));
}

async fn status_of(app: &TestApp, id: &str) -> (String, Option<String>) {
    let id = id.to_string();
    app.with_conn(move |c| {
        payments::table
            .find(&id)
            .select((payments::status, payments::failure_code))
            .first(c)
            .unwrap()
    })
    .await
}

async fn charges(app: &TestApp) -> i64 {
    app.with_conn(|c| leman::models::sandbox_charges::count(c).unwrap())
        .await
}

#[tokio::test]
async fn crash_a_top_up_charged_but_not_recorded_is_credited_once_without_a_second_charge() {
    let app = billing_app().await;
    let (user, s) = app.signed_in("crash-top-up@example.ch").await;
    let org = app.an_org(&s).funded("100.00").await;
    let charged = pending_card_payment(&app, &org.id, org.card(), None, 2500, &user.id).await;
    charge(&app, &charged);
    // Killed before the charge: the provider never heard of this one.
    let never = pending_card_payment(&app, &org.id, org.card(), None, 4000, &user.id).await;
    let before = charges(&app).await;
    // A pass right away leaves both alone: a live request may still record its answer.
    let r = renewal_scheduler::run(&app.services, now()).await.unwrap();
    assert_eq!(r.reconciled, 0, "{r:?}");
    assert_eq!(status_of(&app, &charged.id).await.0, "pending");
    let r = renewal_scheduler::run(&app.services, now() + Duration::minutes(3))
        .await
        .unwrap();
    assert_eq!(r.reconciled, 2, "{r:?}");
    assert_eq!(charges(&app).await, before, "nothing charged again");
    assert_eq!(status_of(&app, &charged.id).await.0, "succeeded");
    assert_eq!(
        status_of(&app, &never.id).await,
        ("failed".into(), Some("unanswered".into()))
    );
    let account = get_json(&app, &s, &format!("/v1/orgs/{}/prepaid-account", org.id)).await;
    assert_eq!(account["balance"]["amount"], "125.00", "{account}");
    let (sum, balance) = ledger_sum_and_balance(&app, &org.id).await;
    assert_eq!((sum, balance), (12500, 12500));
    // Once: a later pass finds nothing.
    let r = renewal_scheduler::run(&app.services, now() + Duration::minutes(10))
        .await
        .unwrap();
    assert_eq!(r.reconciled, 0, "{r:?}");
    assert_eq!(ledger_sum_and_balance(&app, &org.id).await, (12500, 12500));
}

/// A top-up of CHF 40 whose request stalled before the provider: a pass 3 minutes on finds no
/// charge on record and gives it up (`unanswered`); then the provider charges it after all.
/// The organisation held CHF 100 before.
async fn given_up_then_charged(email: &str) -> (TestApp, TestSession, TestOrg, Payment) {
    let app = billing_app().await;
    let (user, s) = app.signed_in(email).await;
    let org = app.an_org(&s).funded("100.00").await;
    let stalled = pending_card_payment(&app, &org.id, org.card(), None, 4000, &user.id).await;
    let r = renewal_scheduler::run(&app.services, now() + Duration::minutes(3))
        .await
        .unwrap();
    assert_eq!(r.reconciled, 1, "{r:?}");
    assert_eq!(
        status_of(&app, &stalled.id).await,
        ("failed".into(), Some("unanswered".into()))
    );
    charge(&app, &stalled);
    (app, s, org, stalled)
}

/// The given-up top-up's CHF 40 went to the prepaid account, once (CHF 100 before).
async fn credited_once(app: &TestApp, s: &TestSession, org: &TestOrg, stalled: &Payment) {
    assert_eq!(
        status_of(app, &stalled.id).await,
        ("failed".into(), Some("unanswered_credited".into()))
    );
    let account = get_json(app, s, &format!("/v1/orgs/{}/prepaid-account", org.id)).await;
    assert_eq!(account["balance"]["amount"], "140.00", "{account}");
    assert_eq!(ledger_sum_and_balance(app, &org.id).await, (14000, 14000));
}

/// A request that stalled between its pending payment and the provider for longer than the
/// reconciliation's wait: the pass finds no charge on record and gives the payment up; the
/// request then charges after all. The money taken goes to the prepaid account, once.
#[tokio::test]
async fn crash_a_charge_given_up_as_never_made_then_approved_goes_to_the_prepaid_account_once() {
    let (app, s, org, stalled) = given_up_then_charged("stalled@example.ch").await;
    let approved = || {
        Ok(ChargeOutcome::Approved {
            reference: format!("ch_{}", stalled.id),
        })
    };
    let origin = leman::domain::actor::Origin::system("test");
    for _ in 0..2 {
        let answer = leman::services::payments::record_charge(
            &app.services.pool,
            app.services.config.clone(),
            origin.clone(),
            stalled.clone(),
            approved(),
        )
        .await
        .unwrap();
        assert!(
            matches!(
                answer,
                Err(leman::services::payments::ChargeFailure::GivenUp { credited: true })
            ),
            "{answer:?}"
        );
        let problem = leman::error::AppError::from(answer.unwrap_err());
        assert_eq!(
            (problem.status.as_u16(), problem.code),
            (409, "payment_given_up")
        );
    }
    credited_once(&app, &s, &org, &stalled).await;
}

/// The same stalled request dies right after the provider approved it: the next passes ask the
/// provider again about the given-up payment and credit the money, once.
#[tokio::test]
async fn crash_a_given_up_charge_approved_by_a_request_that_then_died_is_credited_by_the_next_pass()
{
    let (app, s, org, stalled) = given_up_then_charged("stalled-died@example.ch").await;
    for minutes in [5, 7] {
        renewal_scheduler::run(&app.services, now() + Duration::minutes(minutes))
            .await
            .unwrap();
    }
    credited_once(&app, &s, &org, &stalled).await;
    let reference: Option<String> = {
        let id = stalled.id.clone();
        app.with_conn(move |c| {
            payments::table
                .find(&id)
                .select(payments::gateway_reference)
                .first(c)
                .unwrap()
        })
        .await
    };
    assert!(reference.is_some(), "the provider's reference is kept");
}

#[tokio::test]
async fn crash_an_invoice_charged_but_not_recorded_is_paid_once_and_its_order_delivered() {
    let app = billing_app().await;
    let (user, s) = app.signed_in("crash-invoice@example.ch").await;
    let org = app
        .an_org(&s)
        .with_card()
        .with_open_invoice(json!([{"offer_id": "web-hosting-starter", "billing_period": "P1Y"}]))
        .await;
    let invoice = org.invoice(0).to_string();
    let path = format!("/v1/orgs/{}/invoices/{invoice}", org.id);
    let total = get_json(&app, &s, &path).await["total"]["amount"]
        .as_str()
        .unwrap()
        .replace('.', "")
        .parse::<i64>()
        .unwrap();
    let p = pending_card_payment(&app, &org.id, org.card(), Some(&invoice), total, &user.id).await;
    charge(&app, &p);
    // Held: another payment of the invoice waits on the stuck one.
    let again = send(
        &app,
        Method::POST,
        &format!("{path}/payments"),
        &s,
        Some(card(org.card())),
    )
    .await;
    assert_eq!(again.status().as_u16(), 409);
    let before = charges(&app).await;
    let r = renewal_scheduler::run(&app.services, now() + Duration::minutes(3))
        .await
        .unwrap();
    assert_eq!(r.reconciled, 1, "{r:?}");
    assert_eq!(charges(&app).await, before, "nothing charged again");
    let inv = ok(send(&app, Method::GET, &path, &s, None).await, 200).await;
    assert_eq!(inv["status"], "paid", "{inv}");
    let products = get_json(&app, &s, &format!("/v1/orgs/{}/products", org.id)).await;
    assert_eq!(products["data"].as_array().unwrap().len(), 1, "{products}");
    assert_eq!(status_of(&app, &p.id).await.0, "succeeded");
}

/// Attack review: a charge the provider made but never answered (a timeout after the charge)
/// failed its payment at once, which freed the invoice for a second charge. It now stays pending,
/// is refused a second payment, and the next scheduler pass learns the charge by its key.
#[tokio::test]
async fn crash_a_charge_left_unanswered_by_the_provider_stays_pending_until_asked_again() {
    let app = billing_app().await;
    let (_, s) = app.signed_in("no-answer@example.ch").await;
    let org = app.create_org(&s, "No answer").await;
    let lost = app
        .add_payment_method(
            &s,
            &org,
            json!({"type": "card", "token": "tok_visa_no_answer"}),
        )
        .await;
    let visa = app
        .add_payment_method(&s, &org, json!({"type": "card", "token": "tok_visa"}))
        .await;
    let order = app
        .order(
            &s,
            &org,
            json!([{"offer_id": "web-hosting-starter", "billing_period": "P1M"}]),
        )
        .await;
    let pay = format!(
        "/v1/orgs/{org}/orders/{}/payments",
        order["id"].as_str().unwrap()
    );
    let before = charges(&app).await;
    let answer = send(&app, Method::POST, &pay, &s, Some(card(&lost))).await;
    assert_eq!(answer.status(), 503);
    let body: serde_json::Value = answer.json().await.unwrap();
    assert_eq!(body["code"], "payment_provider_unavailable", "{body}");
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("may have been made"),
        "{body}"
    );
    assert_eq!(charges(&app).await, before + 1, "the provider did charge");
    // Held: no second charge while the first one's outcome is unknown.
    let again = send(&app, Method::POST, &pay, &s, Some(card(&visa))).await;
    assert_eq!(again.status(), 409);
    let invoice_id = order["invoice_id"].as_str().unwrap().to_string();
    let invoice = get_json(&app, &s, &format!("/v1/orgs/{org}/invoices/{invoice_id}")).await;
    assert_eq!(invoice["status"], "open", "{invoice}");
    let r = renewal_scheduler::run(&app.services, now() + Duration::minutes(3))
        .await
        .unwrap();
    assert_eq!(r.reconciled, 1, "{r:?}");
    assert_eq!(charges(&app).await, before + 1, "nothing charged again");
    let invoice = get_json(&app, &s, &format!("/v1/orgs/{org}/invoices/{invoice_id}")).await;
    assert_eq!(invoice["status"], "paid", "{invoice}");
}
