//! One typed vocabulary for the account side (issue 10): the kinds of activity are a list the API
//! serves and checks, and what a job does is recorded as that job.

use std::collections::HashSet;

use leman::domain::events::ActivityKind;
use leman::models::jobs::{self as job_rows, NewJob};
use reqwest::Method;
use serde_json::json;

use crate::helpers::fresh_domain;
use crate::helpers::{TestApp, ok, problem, send, spec};

#[tokio::test]
async fn v3_the_activity_kinds_route_lists_every_kind_publicly() {
    let app = TestApp::spawn().await;
    let res = app.get("/v1/activity-kinds").await;
    let body = ok(res, 200).await;
    let listed = body["data"].as_array().unwrap();
    let kinds: Vec<&str> = listed.iter().map(|k| k["kind"].as_str().unwrap()).collect();
    let all: Vec<&str> = ActivityKind::ALL.iter().map(|k| k.as_str()).collect();
    assert_eq!(kinds, all);
    assert_eq!(kinds.iter().collect::<HashSet<_>>().len(), kinds.len());
    for k in listed {
        let description = k["description"].as_str().unwrap();
        assert!(
            description.ends_with('.') && !description.contains('\n'),
            "{k}"
        );
    }
    let kind = |name: &str| listed.iter().find(|k| k["kind"] == name).unwrap().clone();
    assert_eq!(kind("invoice.paid")["in_organisation"], true);
    assert_eq!(kind("member.joined")["in_organisation"], true);
    assert_eq!(kind("login.succeeded")["in_organisation"], false);
    assert_eq!(kind("token.created")["in_organisation"], false);
}

#[tokio::test]
async fn v3_an_unknown_action_filter_is_a_422_naming_action() {
    let app = TestApp::spawn().await;
    let (_, session) = app.signed_in("zoe@example.ch").await;
    let org = app.create_org(&session, "Lac").await;
    for path in [
        "/v1/me/activities?action=login.failed&action=domain.teleported".to_string(),
        format!("/v1/orgs/{org}/activities?action=LOGIN.FAILED"),
    ] {
        let res = send(&app, Method::GET, &path, &session, None).await;
        let body = problem(res, 422, "validation_failed").await;
        let field = body["errors"][0]["field"].as_str().unwrap();
        assert!(field.starts_with("action"), "{path}: {body}");
    }
    // A known kind filters.
    let res = send(
        &app,
        Method::GET,
        "/v1/me/activities?action=login.succeeded",
        &session,
        None,
    )
    .await;
    let body = ok(res, 200).await;
    let data = body["data"].as_array().unwrap();
    assert!(!data.is_empty());
    assert!(data.iter().all(|a| a["action"] == "login.succeeded"));
}

#[tokio::test]
async fn v3_the_spec_shows_activity_kinds_as_an_enum() {
    let spec = spec();
    let schemas = &spec["components"]["schemas"];
    let kinds: Vec<&str> = schemas["ActivityKind"]["enum"]
        .as_array()
        .expect("ActivityKind is an enum")
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(kinds.len(), ActivityKind::ALL.len());
    assert!(kinds.contains(&"order.expired"));
    let action = &schemas["ActivityView"]["properties"]["action"];
    assert_eq!(
        action["$ref"], "#/components/schemas/ActivityKind",
        "{action}"
    );
    let kind = &schemas["ActivityKindView"]["properties"]["kind"];
    assert_eq!(kind["$ref"], "#/components/schemas/ActivityKind", "{kind}");
    for op in ["/v1/me/activities", "/v1/orgs/{org_id}/activities"] {
        let params = spec["paths"][op]["get"]["parameters"].as_array().unwrap();
        let action = params.iter().find(|p| p["name"] == "action").unwrap();
        assert_eq!(
            action["schema"]["items"]["$ref"], "#/components/schemas/ActivityKind",
            "{op}: {action}"
        );
    }
    let list = &spec["paths"]["/v1/activity-kinds"]["get"];
    assert_eq!(list["operationId"], "list_activity_kinds");
}

#[tokio::test]
async fn v3_an_activity_made_by_a_job_names_the_job() {
    let app = TestApp::builder()
        .without_jobs()
        .env("LEMAN_ORDER_EXPIRY_DAYS", "1")
        .spawn()
        .await;
    let (_, session) = app.signed_in("zoe@example.ch").await;
    let org = app.create_org(&session, "Late").await;
    let order = app
        .order(
            &session,
            &org,
            json!([{"offer_id": "domain-ch", "billing_period": "P1Y", "domain_name": fresh_domain("ch")}]),
        )
        .await;
    let order_id = order["id"].as_str().unwrap().to_string();
    // Its time is over; the job that expires orders runs.
    app.with_conn(move |c| {
        use diesel::prelude::*;
        use leman::db::schema::orders;
        diesel::update(orders::table.find(order_id))
            .set(orders::expires_at.eq(leman::db::now() - chrono::Duration::hours(1)))
            .execute(c)
            .unwrap()
    })
    .await;
    app.with_conn(|c| {
        job_rows::enqueue(
            c,
            NewJob::new(leman::jobs::expire_orders::KIND, json!({}), 1),
        )
        .unwrap()
    })
    .await;
    let runner = app.services.runner();
    while runner.run_once().await.unwrap() {}
    let res = send(
        &app,
        Method::GET,
        &format!("/v1/orgs/{org}/activities?action=order.expired"),
        &session,
        None,
    )
    .await;
    let body = ok(res, 200).await;
    let expired = &body["data"][0];
    assert_eq!(expired["action"], "order.expired", "{body}");
    assert_eq!(expired["actor_name"], "Leman (expire_orders)");
    assert!(expired["actor_user_id"].is_null());
    assert_eq!(expired["details"]["order_id"], order["id"]);
    // What a signed-in person did has no such name.
    let res = send(
        &app,
        Method::GET,
        "/v1/me/activities?action=login.succeeded",
        &session,
        None,
    )
    .await;
    let body = ok(res, 200).await;
    assert!(body["data"][0]["actor_name"].is_null(), "{body}");
}
