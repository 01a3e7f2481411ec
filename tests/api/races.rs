//! The race harness (issue 9, "the rule behind 4, 5 and 12"): each pair of conflicting writes of
//! an organisation's money routes runs many times at once, then the invariants are checked in
//! the database. Meaningful on PostgreSQL (READ COMMITTED: a "check, then act" races there
//! unless the organisation's row lock serialises it); on SQLite, where `BEGIN IMMEDIATE`
//! serialises every writer, the same tests run cheaper and must hold too.
//!
//! `race` (two writes, N rounds) and `load` (K clients for a while) are reusable: a race of
//! other routes gives them its two closures and checks its own invariants.

use std::future::Future;
use std::time::{Duration, Instant};

use diesel::prelude::*;
use reqwest::Method;
use serde_json::json;

use crate::helpers::fresh_domain;
use crate::helpers::{
    TestApp, TestSession, WEBHOOK_SECRET, card, ledger_sum_and_balance, ok, send,
};

/// Runs `rounds` rounds of the writes `a` and `b`, started together in each round (each gets the
/// round's number); returns each round's two statuses.
pub async fn race<A, B, FA, FB>(rounds: usize, mut a: A, mut b: B) -> Vec<(u16, u16)>
where
    A: FnMut(usize) -> FA,
    B: FnMut(usize) -> FB,
    FA: Future<Output = u16>,
    FB: Future<Output = u16>,
{
    let mut out = Vec::with_capacity(rounds);
    for round in 0..rounds {
        out.push(tokio::join!(a(round), b(round)));
    }
    out
}

/// Runs `clients` clients at once, each calling `op(client, n)` (n: its n-th call) in a loop for
/// `for_how_long`; returns every status.
pub async fn load<F, Fut>(clients: usize, for_how_long: Duration, op: F) -> Vec<u16>
where
    F: Fn(usize, usize) -> Fut,
    Fut: Future<Output = u16>,
{
    let until = Instant::now() + for_how_long;
    let op = &op;
    let runs = (0..clients).map(|client| async move {
        let mut statuses = Vec::new();
        while Instant::now() < until {
            statuses.push(op(client, statuses.len()).await);
        }
        statuses
    });
    futures_util::future::join_all(runs)
        .await
        .into_iter()
        .flatten()
        .collect()
}

/// Fails unless every status is one of `allowed` (5xx is never allowed: a deadlock or a race
/// that reaches the client as an error is the bug).
pub fn assert_only(statuses: &[u16], allowed: &[u16], what: &str) {
    let odd: Vec<_> = statuses.iter().filter(|s| !allowed.contains(s)).collect();
    assert!(
        odd.is_empty(),
        "{what}: statuses {odd:?} outside {allowed:?} (all: {statuses:?})"
    );
}

/// A request's status; the body of an unexpected server error is printed to help diagnose it.
pub async fn status_of(res: reqwest::Response) -> u16 {
    let status = res.status().as_u16();
    if status >= 500 {
        eprintln!("{status}: {}", res.text().await.unwrap_or_default());
    }
    status
}

/// An app for races: more database connections than racing clients, no provider webhooks
/// needed, limits that money races do not hit.
async fn race_app() -> TestApp {
    TestApp::builder()
        .env("LEMAN_PAYMENT_WEBHOOK_SECRETS", WEBHOOK_SECRET)
        .env("LEMAN_AUTH_RATE_PER_IP", "100000")
        .env("LEMAN_DB_POOL_SIZE", "10")
        .env("LEMAN_PREPAID_TOP_UP_MIN", "1.00")
        .env("LEMAN_PREPAID_TOP_UP_MAX", "1000.00")
        .env("LEMAN_PREPAID_CEILING", "1000000.00")
        .spawn()
        .await
}

/// The money invariants of one organisation (deleted ones included), read in the database:
/// everything it holds is in its currency, its prepaid balance equals its ledger's sum and never
/// went below zero, and no invoice has two payments in flight (or was paid twice).
pub async fn assert_money_invariants(app: &TestApp, org: &str) {
    use leman::db::schema::{
        invoices, orders, organizations, payments, prepaid_accounts, prepaid_transactions, products,
    };
    let org = org.to_string();
    let failures = app
        .with_conn(move |c| {
            let mut failures = Vec::new();
            let currency: String = organizations::table
                .find(&org)
                .select(organizations::currency)
                .first(c)
                .unwrap();
            let mut check = |what: &str, found: Vec<String>| {
                if let Some(other) = found.iter().find(|cur| **cur != currency) {
                    failures.push(format!("{what} in {other}, the organisation in {currency}"));
                }
            };
            check(
                "a product",
                products::table
                    .filter(products::organization_id.eq(&org))
                    .select(products::currency)
                    .load(c)
                    .unwrap(),
            );
            check(
                "an order",
                orders::table
                    .filter(orders::organization_id.eq(&org))
                    .select(orders::currency)
                    .load(c)
                    .unwrap(),
            );
            check(
                "an invoice",
                invoices::table
                    .filter(invoices::organization_id.eq(&org))
                    .select(invoices::currency)
                    .load(c)
                    .unwrap(),
            );
            check(
                "a payment",
                payments::table
                    .filter(payments::organization_id.eq(&org))
                    .select(payments::currency)
                    .load(c)
                    .unwrap(),
            );
            check(
                "the prepaid account",
                prepaid_accounts::table
                    .filter(prepaid_accounts::organization_id.eq(&org))
                    .select(prepaid_accounts::currency)
                    .load(c)
                    .unwrap(),
            );
            check(
                "a ledger row",
                prepaid_transactions::table
                    .filter(prepaid_transactions::organization_id.eq(&org))
                    .select(prepaid_transactions::currency)
                    .load(c)
                    .unwrap(),
            );
            let sum = leman::models::prepaid::ledger_sum(c, &org).unwrap();
            let balance = leman::models::prepaid::balance(c, &org).unwrap();
            if sum != balance {
                failures.push(format!("ledger sums to {sum}, balance {balance}"));
            }
            let lowest: Option<i64> = prepaid_transactions::table
                .filter(prepaid_transactions::organization_id.eq(&org))
                .select(diesel::dsl::min(prepaid_transactions::balance_after_minor))
                .first(c)
                .unwrap();
            if balance < 0 || lowest.is_some_and(|l| l < 0) {
                failures.push(format!(
                    "the balance went below zero ({balance}, {lowest:?})"
                ));
            }
            let live: Vec<(Option<String>, String)> = payments::table
                .filter(payments::organization_id.eq(&org))
                .filter(payments::invoice_id.is_not_null())
                .filter(payments::status.eq_any(["pending", "succeeded"]))
                .select((payments::invoice_id, payments::status))
                .load(c)
                .unwrap();
            let mut per_invoice = std::collections::HashMap::new();
            for (invoice, _) in &live {
                *per_invoice.entry(invoice.clone()).or_insert(0) += 1;
            }
            if let Some((invoice, n)) = per_invoice.iter().find(|(_, n)| **n > 1) {
                failures.push(format!("invoice {invoice:?} has {n} live payments"));
            }
            let paid_twice: i64 = invoices::table
                .filter(invoices::organization_id.eq(&org))
                .filter(invoices::status.eq("paid"))
                .count()
                .get_result::<i64>(c)
                .unwrap()
                - payments::table
                    .filter(payments::organization_id.eq(&org))
                    .filter(payments::invoice_id.is_not_null())
                    .filter(payments::status.eq("succeeded"))
                    .count()
                    .get_result::<i64>(c)
                    .unwrap();
            if paid_twice != 0 {
                failures.push(format!(
                    "paid invoices and succeeded invoice payments differ by {paid_twice}"
                ));
            }
            failures
        })
        .await;
    assert!(failures.is_empty(), "{failures:?}");
}

fn domain() -> serde_json::Value {
    json!([{"offer_id": "domain-ch", "billing_period": "P1Y", "domain_name": fresh_domain("ch")}])
}

/// `POST /orders` (paid from the prepaid account when `prepaid`); its status.
async fn order(app: &TestApp, s: &TestSession, org: &str, prepaid: bool) -> u16 {
    let mut body = json!({ "items": domain() });
    if prepaid {
        body["payment"] = json!({"method": "prepaid"});
    }
    status_of(
        send(
            app,
            Method::POST,
            &format!("/v1/orgs/{org}/orders"),
            s,
            Some(body),
        )
        .await,
    )
    .await
}

async fn top_up(app: &TestApp, s: &TestSession, org: &str, card_id: &str, amount: &str) -> u16 {
    status_of(
        send(
            app,
            Method::POST,
            &format!("/v1/orgs/{org}/prepaid-account/top-ups"),
            s,
            Some(json!({"amount": {"amount": amount, "currency": "CHF"}, "payment_method_id": card_id})),
        )
        .await,
    )
    .await
}

#[tokio::test]
async fn f5_a_currency_change_racing_order_creation_leaves_everything_in_one_currency() {
    let app = race_app().await;
    let (_, s) = app.signed_in("zoe@example.ch").await;
    let mut orgs = Vec::new();
    for i in 0..20 {
        orgs.push(app.create_org(&s, &format!("Currency {i}")).await);
    }
    let (app, s, orgs) = (&app, &s, &orgs);
    let rounds = race(
        20,
        |i| async move {
            status_of(
                send(
                    app,
                    Method::PATCH,
                    &format!("/v1/orgs/{}", orgs[i]),
                    s,
                    Some(json!({"currency": "EUR"})),
                )
                .await,
            )
            .await
        },
        |i| order(app, s, &orgs[i], false),
    )
    .await;
    let (patches, orders): (Vec<u16>, Vec<u16>) = rounds.into_iter().unzip();
    assert_only(&patches, &[200, 409], "PATCH currency");
    assert_only(&orders, &[201], "create order");
    for org in orgs {
        assert_money_invariants(app, org).await;
    }
}

#[tokio::test]
async fn f5_prepaid_money_never_moves_across_currencies() {
    let app = race_app().await;
    let (_, s) = app.signed_in("zoe@example.ch").await;
    let (org, _) = app.funded_org(&s, "Francs", "100.00").await;
    // The application refuses: an amount in another currency does not move the balance.
    let o = org.clone();
    let moved = app
        .with_conn(move |c| {
            leman::db::write(c, |c| {
                leman::models::prepaid::move_balance(
                    c,
                    &o,
                    "EUR",
                    -5000,
                    i64::MAX,
                    leman::db::now(),
                )
            })
            .unwrap()
        })
        .await;
    assert_eq!(
        moved,
        leman::models::prepaid::Moved::OtherCurrency("CHF".into())
    );
    assert_eq!(ledger_sum_and_balance(&app, &org).await, (10000, 10000));
    // The database refuses too: a ledger row in another currency than its account's, an
    // organisation's currency changed under its money.
    let o = org.clone();
    let (ledger, currency) = app
        .with_conn(move |c| {
            let row = leman::models::prepaid::PrepaidTransaction {
                id: leman::db::new_id("ptx"),
                organization_id: o.clone(),
                kind: leman::domain::billing_states::PrepaidTransactionKind::TopUp,
                amount_minor: 100,
                balance_after_minor: 10100,
                currency: "EUR".into(),
                payment_id: None,
                invoice_id: None,
                iban: None,
                created_by: None,
                created_at: leman::db::now(),
            };
            let ledger = leman::models::prepaid::append(c, &row).is_err();
            let currency = diesel::update(leman::db::schema::organizations::table.find(&o))
                .set(leman::db::schema::organizations::currency.eq("EUR"))
                .execute(c)
                .is_err();
            (ledger, currency)
        })
        .await;
    assert!(ledger, "a ledger row in EUR on a CHF account was stored");
    assert!(
        currency,
        "the organisation's currency changed under its money"
    );
    // Through the API: 409 `currency_locked`, and an order paid from the account is in francs.
    crate::helpers::problem(
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
    assert_eq!(order(&app, &s, &org, true).await, 201);
    assert_money_invariants(&app, &org).await;
}

#[tokio::test]
async fn f5_deleting_an_organisation_racing_an_order_never_leaves_an_order_in_a_deleted_one() {
    let app = race_app().await;
    let (_, s) = app.signed_in("zoe@example.ch").await;
    let mut orgs = Vec::new();
    for i in 0..20 {
        orgs.push(app.create_org(&s, &format!("Deleted {i}")).await);
    }
    let (app, s, orgs) = (&app, &s, &orgs);
    let rounds = race(
        20,
        |i| async move {
            status_of(
                send(
                    app,
                    Method::DELETE,
                    &format!("/v1/orgs/{}", orgs[i]),
                    s,
                    None,
                )
                .await,
            )
            .await
        },
        |i| order(app, s, &orgs[i], false),
    )
    .await;
    let (deletes, orders): (Vec<u16>, Vec<u16>) = rounds.iter().copied().unzip();
    assert_only(&deletes, &[204, 409], "DELETE organisation");
    assert_only(&orders, &[201, 404], "create order");
    for ((deleted, ordered), org) in rounds.iter().zip(orgs) {
        assert!(
            (*deleted == 204) != (*ordered == 201),
            "exactly one wins: delete {deleted}, order {ordered}"
        );
        let o = org.clone();
        let (gone, held) = app
            .with_conn(move |c| {
                use leman::db::schema::{organizations, products};
                let gone = organizations::table
                    .find(&o)
                    .select(organizations::deleted_at.is_not_null())
                    .first::<bool>(c)
                    .unwrap();
                let held: i64 = products::table
                    .filter(products::organization_id.eq(&o))
                    .count()
                    .get_result(c)
                    .unwrap();
                (gone, held)
            })
            .await;
        assert!(
            !(gone && held > 0),
            "a deleted organisation holds {held} product(s)"
        );
        assert_money_invariants(app, org).await;
    }
}

#[tokio::test]
async fn f12_top_ups_and_orders_paid_from_prepaid_under_load_never_answer_500() {
    let app = race_app().await;
    let (_, s) = app.signed_in("zoe@example.ch").await;
    let (org, visa) = app.funded_org(&s, "Load", "500.00").await;
    let (app_ref, s_ref, org_ref, visa_ref) = (&app, &s, &org, &visa);
    // Six clients for three seconds: half top up, half order and pay from the account.
    let statuses = load(6, Duration::from_secs(3), |client, _| async move {
        if client % 2 == 0 {
            top_up(app_ref, s_ref, org_ref, visa_ref, "20.00").await
        } else {
            order(app_ref, s_ref, org_ref, true).await
        }
    })
    .await;
    assert!(statuses.len() >= 12, "{statuses:?}");
    assert_only(
        &statuses,
        &[201, 402, 409, 429],
        "top-ups and prepaid orders",
    );
    assert!(statuses.contains(&201), "{statuses:?}");
    assert_money_invariants(&app, &org).await;
}

#[tokio::test]
async fn race_withdrawals_and_orders_paid_from_prepaid_keep_the_balance_whole() {
    let app = race_app().await;
    let (_, s) = app.signed_in("zoe@example.ch").await;
    let (org, _) = app.funded_org(&s, "Withdraw", "150.00").await;
    let (app_ref, s_ref, org_ref) = (&app, &s, &org);
    let rounds = race(
        20,
        |_| async move {
            status_of(
                send(
                    app_ref,
                    Method::POST,
                    &format!("/v1/orgs/{org_ref}/prepaid-account/withdrawals"),
                    s_ref,
                    Some(json!({"amount": {"amount": "5.00", "currency": "CHF"}, "iban": "CH93 0076 2011 6238 5295 7"})),
                )
                .await,
            )
            .await
        },
        |_| order(app_ref, s_ref, org_ref, true),
    )
    .await;
    let (withdrawals, orders): (Vec<u16>, Vec<u16>) = rounds.into_iter().unzip();
    assert_only(&withdrawals, &[201, 409], "withdrawals");
    assert_only(&orders, &[201, 402], "prepaid orders");
    // 150.00 runs out: some of each side were refused, and the balance stayed whole.
    assert!(
        orders.contains(&402) || withdrawals.contains(&409),
        "{orders:?} {withdrawals:?}"
    );
    assert_money_invariants(&app, &org).await;
}

#[tokio::test]
async fn race_two_payers_of_one_invoice_pay_it_once() {
    let app = race_app().await;
    let (_, s) = app.signed_in("zoe@example.ch").await;
    let (org, visa) = app.funded_org(&s, "Payers", "500.00").await;
    let mut invoices = Vec::new();
    for _ in 0..20 {
        let o = app.order(&s, &org, domain()).await;
        invoices.push(o["invoice_id"].as_str().unwrap().to_string());
    }
    let (app_ref, s_ref, org_ref, invoices_ref, visa_ref) = (&app, &s, &org, &invoices, &visa);
    let pay = |invoice: &str, how: serde_json::Value| {
        let path = format!("/v1/orgs/{org_ref}/invoices/{invoice}/payments");
        async move { status_of(send(app_ref, Method::POST, &path, s_ref, Some(how)).await).await }
    };
    let rounds = race(
        20,
        |i| pay(&invoices_ref[i], json!({"method": "prepaid"})),
        |i| {
            // The other payer uses the card, or announces a bank transfer (which a prepaid
            // payment supersedes).
            let how = if i % 2 == 0 {
                card(visa_ref)
            } else {
                json!({"method": "bank_transfer"})
            };
            pay(&invoices_ref[i], how)
        },
    )
    .await;
    let all: Vec<u16> = rounds.iter().flat_map(|(a, b)| [*a, *b]).collect();
    assert_only(&all, &[201, 202, 409], "two payers of one invoice");
    assert_money_invariants(&app, &org).await;
    // Every invoice ends paid once or holds one transfer in flight.
    let list = ok(
        send(
            &app,
            Method::GET,
            &format!("/v1/orgs/{org}/invoices?limit=100"),
            &s,
            None,
        )
        .await,
        200,
    )
    .await;
    for invoice in list["data"].as_array().unwrap() {
        assert!(
            ["paid", "open"].contains(&invoice["status"].as_str().unwrap()),
            "{invoice}"
        );
    }
}

#[tokio::test]
async fn f12_top_ups_confirmed_by_webhook_racing_orders_paid_from_prepaid_never_answer_500() {
    let app = race_app().await;
    let (_, s) = app.signed_in("zoe@example.ch").await;
    let (org, _) = app.funded_org(&s, "Webhooks", "500.00").await;
    let later = app
        .add_payment_method(&s, &org, json!({"type": "card", "token": "tok_visa_async"}))
        .await;
    let (app_ref, s_ref, org_ref, later_ref) = (&app, &s, &org, &later);
    // Six clients for three seconds: half ask for a top-up the provider confirms later and
    // deliver its confirmation, half order and pay from the account.
    let statuses = load(6, Duration::from_secs(3), |client, n| async move {
        if client % 2 == 1 {
            return order(app_ref, s_ref, org_ref, true).await;
        }
        let res = send(
            app_ref,
            Method::POST,
            &format!("/v1/orgs/{org_ref}/prepaid-account/top-ups"),
            s_ref,
            Some(json!({"amount": {"amount": "20.00", "currency": "CHF"}, "payment_method_id": later_ref})),
        )
        .await;
        if res.status() != 202 {
            return status_of(res).await;
        }
        let pending: serde_json::Value = res.json().await.unwrap();
        let event = json!({"id": format!("evt_race_{client}_{n}"), "type": "payment.succeeded",
            "data": {"payment_reference": crate::helpers::sandbox_reference(pending["id"].as_str().unwrap())}});
        status_of(app_ref.webhook(event, chrono::Utc::now().timestamp()).await).await
    })
    .await;
    assert!(statuses.len() >= 12, "{statuses:?}");
    assert_only(
        &statuses,
        &[200, 201, 402, 409, 429],
        "confirmations and prepaid orders",
    );
    assert!(
        statuses.contains(&200) && statuses.contains(&201),
        "{statuses:?}"
    );
    assert_money_invariants(&app, &org).await;
}
