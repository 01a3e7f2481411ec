//! Newsletter topics and subscriptions (R8).

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, create_token, my_activity_details, problem, send};

async fn subscriptions(app: &TestApp, token: &str) -> Value {
    let res = send(
        app,
        Method::GET,
        "/v1/me/newsletter-subscriptions",
        token,
        None,
    )
    .await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

async fn put(app: &TestApp, token: &str, topics: Value) -> reqwest::Response {
    send(
        app,
        Method::PUT,
        "/v1/me/newsletter-subscriptions",
        token,
        Some(json!({ "topics": topics })),
    )
    .await
}

#[tokio::test]
async fn r8_topics_are_listed_in_every_language() {
    let app = TestApp::spawn().await;
    let res = app.get("/v1/newsletter-topics").await;
    assert_eq!(res.status(), 200);
    let en: Value = res.json().await.unwrap();
    let ids: Vec<&str> = en["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        ["product_news", "offers", "tips", "service_status", "events"]
    );
    assert_eq!(en["data"][3]["name"], "Service status");
    assert!(en["data"][3]["description"].as_str().unwrap().len() > 10);

    let fr: Value = app
        .get("/v1/newsletter-topics?language=fr")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(fr["data"][3]["id"], "service_status");
    assert_eq!(fr["data"][3]["name"], "État des services");
    let de: Value = app
        .get("/v1/newsletter-topics?language=de")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(de["data"][1]["name"], "Angebote");
    for language in ["it", "es"] {
        let other: Value = app
            .get(&format!("/v1/newsletter-topics?language={language}"))
            .await
            .json()
            .await
            .unwrap();
        assert_ne!(
            other["data"][0]["name"], en["data"][0]["name"],
            "{language}"
        );
    }

    for bad in ["xx", "EN", "english"] {
        let res = app
            .get(&format!("/v1/newsletter-topics?language={bad}"))
            .await;
        let body = problem(res, 422, "validation_failed").await;
        assert_eq!(body["errors"][0]["field"], "language", "{bad}");
    }
}

#[tokio::test]
async fn r8_subscribe_and_unsubscribe_per_topic() {
    let app = TestApp::spawn().await;
    let (user, session) = app.signed_in("zoe@example.ch").await;
    let token = &session.access_token;
    assert_eq!(subscriptions(&app, token).await, json!({"topics": []}));

    // Duplicates collapse; the answer follows the catalogue's order.
    let res = put(&app, token, json!(["tips", "offers", "tips"])).await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body, json!({"topics": ["offers", "tips"]}));
    assert_eq!(
        subscriptions(&app, token).await,
        json!({"topics": ["offers", "tips"]})
    );

    // One topic more, one less.
    let res = put(&app, token, json!(["tips", "events"])).await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        subscriptions(&app, token).await,
        json!({"topics": ["tips", "events"]})
    );

    // An unknown topic: refused with its position, and nothing changes.
    let res = put(&app, token, json!(["events", "spam"])).await;
    let body = problem(res, 422, "validation_failed").await;
    assert_eq!(body["errors"][0]["field"], "/topics/1");
    assert_eq!(body["errors"][0]["code"], "unknown_topic");
    assert_eq!(
        subscriptions(&app, token).await,
        json!({"topics": ["tips", "events"]})
    );
    let res = put(&app, token, json!("events")).await;
    problem(res, 422, "validation_failed").await;

    // Everything off.
    assert_eq!(put(&app, token, json!([])).await.status(), 200);
    assert_eq!(subscriptions(&app, token).await, json!({"topics": []}));

    let actions = app.activities_of(&user.id).await;
    assert_eq!(
        actions
            .iter()
            .filter(|a| *a == "newsletters.updated")
            .count(),
        3
    );
    let details = my_activity_details(&app, token, "newsletters.updated").await;
    assert_eq!(details.len(), 3);
    assert_eq!(details[1]["subscribed"], json!(["events"]));
    assert_eq!(details[1]["unsubscribed"], json!(["offers"]));
    assert_eq!(details[2]["unsubscribed"], json!(["tips", "events"]));
}

#[tokio::test]
async fn r8_subscriptions_belong_to_their_account_and_follow_scopes() {
    let app = TestApp::spawn().await;
    let (_, alice) = app.signed_in("alice@example.ch").await;
    let (_, bob) = app.signed_in("bob@example.ch").await;
    assert_eq!(
        put(&app, &alice.access_token, json!(["offers"]))
            .await
            .status(),
        200
    );
    assert_eq!(
        subscriptions(&app, &bob.access_token).await,
        json!({"topics": []})
    );

    let (_, read) = create_token(&app, &alice, &["account:read"]).await;
    assert_eq!(
        subscriptions(&app, &read).await,
        json!({"topics": ["offers"]})
    );
    problem(put(&app, &read, json!([])).await, 403, "insufficient_scope").await;
    let (_, write) = create_token(&app, &alice, &["account:write"]).await;
    assert_eq!(put(&app, &write, json!([])).await.status(), 200);

    let res = app
        .client
        .get(app.url("/v1/me/newsletter-subscriptions"))
        .send()
        .await
        .unwrap();
    problem(res, 401, "unauthenticated").await;
}
