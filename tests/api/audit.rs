//! The activity record's tamper evidence: each organisation's records (and each user's outside
//! any organisation) form a hash chain that concurrent writes cannot fork, that erasing a person
//! does not break, and that reports the first record changed, removed or cut off.

use diesel::prelude::*;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestSession, send};

async fn verification(app: &TestApp, s: &TestSession, org: &str) -> Value {
    let res = send(
        app,
        Method::GET,
        &format!("/v1/orgs/{org}/activities/verification"),
        &s,
        None,
    )
    .await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

/// The ids of the organisation's records, in chain order.
async fn chain(app: &TestApp, org: &str) -> Vec<String> {
    let org = org.to_string();
    app.with_conn(move |c| {
        use leman::db::schema::activities as a;
        a::table
            .filter(a::chain_id.eq(org))
            .order(a::seq)
            .select(a::id)
            .load(c)
            .unwrap()
    })
    .await
}

async fn rename(app: &TestApp, s: &TestSession, org: &str, name: &str) -> u16 {
    send(
        app,
        Method::PATCH,
        &format!("/v1/orgs/{org}"),
        &s,
        Some(json!({ "name": name })),
    )
    .await
    .status()
    .as_u16()
}

#[tokio::test]
async fn concurrent_writes_extend_one_unbroken_chain() {
    let app = TestApp::spawn().await;
    let (_, s) = app.signed_in("legal@example.ch").await;
    let org = app.create_org(&s, "Chained").await;
    let writes = (0..12).map(|i| {
        let (app, s, org) = (&app, &s, &org);
        async move { rename(app, s, org, &format!("Chained {i}")).await }
    });
    for status in futures_util::future::join_all(writes).await {
        assert_eq!(status, 200);
    }
    let report = verification(&app, &s, &org).await;
    assert_eq!(
        report,
        json!({"chain_id": org, "intact": true, "records": 13, "first_broken": null})
    );
}

#[tokio::test]
async fn a_changed_record_fails_verification_at_that_record() {
    let app = TestApp::spawn().await;
    let (_, s) = app.signed_in("legal@example.ch").await;
    let org = app.create_org(&s, "Tampered").await;
    for i in 0..4 {
        assert_eq!(rename(&app, &s, &org, &format!("Name {i}")).await, 200);
    }
    let ids = chain(&app, &org).await;
    assert_eq!(ids.len(), 5);
    let victim = ids[2].clone();
    let v = victim.clone();
    app.with_conn(move |c| {
        use leman::db::schema::activities as a;
        diesel::update(a::table.find(v))
            .set(a::details.eq(r#"{"fields":["vat_number"]}"#))
            .execute(c)
            .unwrap()
    })
    .await;
    let report = verification(&app, &s, &org).await;
    assert_eq!(report["intact"], false);
    assert_eq!(
        report["first_broken"],
        json!({"id": victim, "seq": 3, "reason": "content_changed"})
    );

    // The operator's command names it too, and fails.
    let out = app.cli(&["audit", "verify", "--chain", &org], &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains(&victim) && stdout.contains("content_changed"),
        "{stdout}"
    );
}

#[tokio::test]
async fn removed_or_reassigned_records_break_the_chain() {
    let app = TestApp::spawn().await;
    let (_, s) = app.signed_in("legal@example.ch").await;
    let other = app.create_user("other@example.ch").await;
    let middle = app.create_org(&s, "Middle").await;
    let tail = app.create_org(&s, "Tail").await;
    let actor = app.create_org(&s, "Actor").await;
    for org in [&middle, &tail, &actor] {
        for i in 0..3 {
            rename(&app, &s, org, &format!("N{i}")).await;
        }
    }
    let (m, t, a) = (
        chain(&app, &middle).await,
        chain(&app, &tail).await,
        chain(&app, &actor).await,
    );
    let (gone_middle, gone_tail, reassigned) = (m[1].clone(), t[3].clone(), a[2].clone());
    let other_id = other.id.clone();
    app.with_conn(move |c| {
        use leman::db::schema::activities as a;
        diesel::delete(a::table.find(gone_middle))
            .execute(c)
            .unwrap();
        diesel::delete(a::table.find(gone_tail)).execute(c).unwrap();
        diesel::update(a::table.find(reassigned))
            .set(a::actor_user_id.eq(other_id))
            .execute(c)
            .unwrap();
    })
    .await;
    let r = verification(&app, &s, &middle).await;
    assert_eq!(
        r["first_broken"],
        json!({"id": m[2], "seq": 2, "reason": "missing_record"})
    );
    let r = verification(&app, &s, &tail).await;
    assert_eq!(
        r["first_broken"],
        json!({"id": null, "seq": 4, "reason": "records_missing_at_end"})
    );
    let r = verification(&app, &s, &actor).await;
    assert_eq!(
        r["first_broken"],
        json!({"id": a[2], "seq": 3, "reason": "actor_changed"})
    );
}

#[tokio::test]
async fn erasing_a_person_keeps_every_chain_intact() {
    let app = TestApp::spawn().await;
    let (_, ls) = app.signed_in("legal@example.ch").await;
    let org = app.create_org(&ls, "Kept").await;
    let (member, ms) = app.signed_in("member@example.ch").await;
    app.add_member(&org, &member.id, "admin", &[]).await;
    assert_eq!(rename(&app, &ms, &org, "Renamed by the member").await, 200);
    let res = send(
        &app,
        Method::PATCH,
        "/v1/me",
        &ms,
        Some(json!({"language": "fr"})),
    )
    .await;
    assert_eq!(res.status(), 200);
    let res = send(&app, Method::DELETE, "/v1/me", &ms, None).await;
    assert_eq!(res.status(), 204);
    let report = verification(&app, &ls, &org).await;
    assert_eq!(report["intact"], true, "{report}");
    // Every chain, the member's own included.
    let reports = app
        .with_conn(|c| leman::services::audit::verify_all(c).unwrap())
        .await;
    assert!(reports.len() >= 3, "{reports:?}");
    for r in reports {
        assert!(r.intact, "{r:?}");
    }
}
