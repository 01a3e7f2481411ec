//! /healthz, /readyz, /metrics, CORS, /docs.

use crate::helpers::{TestApp, problem};
use diesel::RunQueryDsl;
use leman::db::Engine;

#[tokio::test]
async fn healthz_and_readyz_answer_when_all_is_well() {
    let app = TestApp::spawn().await;
    let res = app.get("/healthz").await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.json::<serde_json::Value>().await.unwrap()["status"],
        "ok"
    );
    let res = app.get("/readyz").await;
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    let engine = match app.db.engine() {
        Engine::Sqlite => "sqlite",
        Engine::Postgres => "postgres",
    };
    assert_eq!(
        body,
        serde_json::json!({"status": "ready", "database": engine})
    );
}

#[tokio::test]
async fn readyz_is_503_when_migrations_are_not_current() {
    let app = TestApp::spawn().await;
    app.with_conn(|c| {
        diesel::sql_query("DELETE FROM __diesel_schema_migrations")
            .execute(c)
            .unwrap();
    })
    .await;
    let body = problem(app.get("/readyz").await, 503, "not_ready").await;
    assert!(body["detail"].as_str().unwrap().contains("schema"));
    // Liveness does not depend on the database.
    assert_eq!(app.get("/healthz").await.status(), 200);
}

#[tokio::test]
async fn readyz_is_503_when_the_database_is_unreachable() {
    let app = TestApp::spawn().await;
    match app.db.engine() {
        Engine::Postgres => app.db.drop_now(),
        // The file vanishing (an unmounted volume) is SQLite's "unreachable".
        Engine::Sqlite => {
            let path = app.data_dir.path().join("leman.db");
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
            }
        }
    }
    let body = problem(app.get("/readyz").await, 503, "not_ready").await;
    assert!(
        body["detail"].as_str().unwrap().contains("not reachable"),
        "{body}"
    );
    assert_eq!(app.get("/healthz").await.status(), 200);
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_status_and_show_pool_and_queue() {
    let app = TestApp::spawn().await;
    app.get("/healthz").await;
    app.get("/healthz").await;
    app.get("/v1/nope").await;
    let text = app.get("/metrics").await.text().await.unwrap();
    assert!(
        text.contains(r#"leman_http_requests_total{method="GET",route="/healthz",status="200"} 2"#),
        "{text}"
    );
    assert!(
        text.contains(
            r#"leman_http_requests_total{method="GET",route="unmatched",status="404"} 1"#
        ),
        "{text}"
    );
    assert!(
        text.contains("leman_http_request_duration_seconds_bucket{"),
        "{text}"
    );
    assert!(
        text.contains(r#"leman_db_pool_connections{state="idle"}"#),
        "{text}"
    );
    assert!(text.contains(r#"leman_jobs{state="pending"}"#), "{text}");
    assert!(
        text.contains("leman_mail_delivery_failures_total"),
        "{text}"
    );
}

#[tokio::test]
async fn cors_allows_only_listed_origins() {
    let app = TestApp::builder()
        .env("LEMAN_CORS_ORIGINS", "https://panel.example.com")
        .spawn()
        .await;
    let res = app
        .client
        .get(app.url("/healthz"))
        .header("Origin", "https://panel.example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.headers()["access-control-allow-origin"],
        "https://panel.example.com"
    );
    let exposed = res.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .to_lowercase();
    assert!(exposed.contains("x-request-id"), "{exposed}");
    assert!(res.headers()["vary"].to_str().unwrap().contains("Origin"));
    let res = app
        .client
        .get(app.url("/healthz"))
        .header("Origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers().get("access-control-allow-origin").is_none());
    // No `Origin` (a script, a server): no CORS headers, but caches told the answer may differ
    // for a browser's cross-origin request.
    let res = app.get("/healthz").await;
    assert_eq!(res.status(), 200);
    assert!(res.headers().get("access-control-allow-origin").is_none());
    assert!(res.headers().get("access-control-expose-headers").is_none());
    assert_eq!(res.headers()["vary"], "Origin");
    let res = app
        .client
        .request(reqwest::Method::OPTIONS, app.url("/v1/openapi.json"))
        .header("Origin", "https://panel.example.com")
        .header("Access-Control-Request-Method", "POST")
        .header(
            "Access-Control-Request-Headers",
            "authorization, idempotency-key, content-type",
        )
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    assert_eq!(
        res.headers()["access-control-allow-origin"],
        "https://panel.example.com"
    );
    let allowed = res.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_lowercase();
    assert!(allowed.contains("idempotency-key"), "{allowed}");
}

#[tokio::test]
async fn docs_serve_swagger_ui_from_the_binary() {
    let app = TestApp::spawn().await;
    let res = app.get("/docs").await;
    assert_eq!(res.status(), 308);
    let res = app.get("/docs/").await;
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("swagger"));
    let init = app
        .get("/docs/swagger-initializer.js")
        .await
        .text()
        .await
        .unwrap();
    assert!(init.contains("/v1/openapi.json"), "{init}");
}
