//! Finding 4 of issue 9: two legal representatives demoting, removing or leaving each other at
//! the same moment must leave one. On PostgreSQL (READ COMMITTED) the two transactions run side
//! by side, so each must count the legal representatives under the organisation's row lock; on
//! SQLite `BEGIN IMMEDIATE` serialises them and the test passes by construction.

use leman::db::Engine;
use reqwest::Method;
use serde_json::json;

use crate::helpers::{TestApp, TestSession, TestUser, send};

const ROUNDS: usize = 20;

/// How many legal representatives the organisation has.
async fn legal_representatives(app: &TestApp, org: &str) -> i64 {
    let org = org.to_string();
    app.with_conn(move |c| leman::models::memberships::count(c, &org).unwrap().1)
        .await
}

/// A fresh organisation of `a` with `b` as its second legal representative.
async fn two_legal_representatives(
    app: &TestApp,
    a: &TestSession,
    b: &TestUser,
    round: usize,
) -> String {
    let org = app.create_org(a, &format!("Race {round}")).await;
    app.add_member(&org, &b.id, "legal_representative", &[])
        .await;
    org
}

/// Runs `pair(org)`'s two requests at once, `ROUNDS` times, each on a fresh organisation, and
/// counts the rounds that left no legal representative (returned with the statuses seen).
async fn race<F>(
    app: &TestApp,
    what: &str,
    a: (&TestUser, &TestSession),
    b: (&TestUser, &TestSession),
    pair: F,
) -> Result<(), String>
where
    F: Fn(String) -> [(Method, String, usize, Option<serde_json::Value>); 2],
{
    let sessions = [a.1, b.1];
    let mut left_none = 0;
    let mut statuses = Vec::new();
    for round in 0..ROUNDS {
        let org = two_legal_representatives(app, a.1, b.0, round).await;
        let [first, second] = pair(org.clone());
        let (r1, r2) = tokio::join!(
            send(app, first.0, &first.1, sessions[first.2], first.3),
            send(app, second.0, &second.1, sessions[second.2], second.3),
        );
        let got = (r1.status().as_u16(), r2.status().as_u16());
        statuses.push(got);
        // One wins; the other is told it would leave no legal representative (409), or finds
        // itself no longer allowed (403) or no longer a member (404).
        assert!(
            [200, 204].contains(&got.0) || [200, 204].contains(&got.1),
            "{what}: neither succeeded: {got:?}"
        );
        if legal_representatives(app, &org).await < 1 {
            left_none += 1;
        }
    }
    (left_none == 0).then_some(()).ok_or_else(|| {
        format!(
            "{what}: {left_none} of {ROUNDS} rounds left no legal representative ({statuses:?})"
        )
    })
}

#[tokio::test]
async fn f4_two_legal_representatives_demoting_removing_or_leaving_at_once_leave_one() {
    let app = TestApp::spawn().await;
    if app.db.engine() == Engine::Sqlite {
        eprintln!("(SQLite serialises writers: the race cannot happen; checked all the same)");
    }
    let (ua, a) = app.signed_in("ada@example.ch").await;
    let (ub, b) = app.signed_in("bea@example.ch").await;
    let (ia, ib) = (ua.id.clone(), ub.id.clone());

    let outcomes = [
        race(&app, "demote each other", (&ua, &a), (&ub, &b), |org| {
            [
                (
                    Method::PATCH,
                    format!("/v1/orgs/{org}/members/{ib}"),
                    0,
                    Some(json!({"role": "member"})),
                ),
                (
                    Method::PATCH,
                    format!("/v1/orgs/{org}/members/{ia}"),
                    1,
                    Some(json!({"role": "member"})),
                ),
            ]
        })
        .await,
        race(&app, "remove each other", (&ua, &a), (&ub, &b), |org| {
            [
                (
                    Method::DELETE,
                    format!("/v1/orgs/{org}/members/{ib}"),
                    0,
                    None,
                ),
                (
                    Method::DELETE,
                    format!("/v1/orgs/{org}/members/{ia}"),
                    1,
                    None,
                ),
            ]
        })
        .await,
        race(&app, "both leave", (&ua, &a), (&ub, &b), |org| {
            [
                (Method::POST, format!("/v1/orgs/{org}/leave"), 0, None),
                (Method::POST, format!("/v1/orgs/{org}/leave"), 1, None),
            ]
        })
        .await,
        race(
            &app,
            "one leaves, the other demotes",
            (&ua, &a),
            (&ub, &b),
            |org| {
                [
                    (Method::POST, format!("/v1/orgs/{org}/leave"), 0, None),
                    (
                        Method::PATCH,
                        format!("/v1/orgs/{org}/members/{ib}"),
                        0,
                        Some(json!({"role": "admin"})),
                    ),
                ]
            },
        )
        .await,
    ];
    let failures: Vec<String> = outcomes.into_iter().filter_map(Result::err).collect();
    assert!(failures.is_empty(), "{failures:#?}");
}

#[tokio::test]
async fn f4_an_account_deletion_and_a_leave_at_once_leave_a_legal_representative() {
    let app = TestApp::spawn().await;
    let (ub, b) = app.signed_in("bea@example.ch").await;
    let mut statuses = Vec::new();
    let mut left_none = 0;
    for round in 0..ROUNDS {
        // A deletes their account while B leaves: each alone is fine, together they would leave
        // the organisation with nobody.
        let (_, a) = app.signed_in(&format!("ada{round}@example.ch")).await;
        let org = two_legal_representatives(&app, &a, &ub, round).await;
        let leave = format!("/v1/orgs/{org}/leave");
        let (r1, r2) = tokio::join!(
            send(&app, Method::DELETE, "/v1/me", &a, None),
            send(&app, Method::POST, &leave, &b, None),
        );
        let got = (r1.status().as_u16(), r2.status().as_u16());
        statuses.push(got);
        if legal_representatives(&app, &org).await < 1 {
            left_none += 1;
        }
    }
    assert_eq!(
        left_none, 0,
        "{left_none} of {ROUNDS} rounds left no legal representative ({statuses:?})"
    );
}
