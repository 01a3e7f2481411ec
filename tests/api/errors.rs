//! Every error leaves as problem+json with a stable code.

use crate::helpers::{TestApp, problem};
use actix_web::{App, HttpResponse, test, web};
use leman::error::AppError;
use leman::http::Json;

#[tokio::test]
async fn an_unknown_route_is_a_404_problem() {
    let app = TestApp::spawn().await;
    let body = problem(app.get("/v1/nothing-here").await, 404, "not_found").await;
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("/v1/nothing-here")
    );
    problem(app.get("/").await, 404, "not_found").await;
}

#[tokio::test]
async fn a_wrong_method_is_405_with_allow() {
    let app = TestApp::spawn().await;
    let res = app.client.post(app.url("/healthz")).send().await.unwrap();
    assert_eq!(res.headers()["allow"], "GET");
    problem(res, 405, "method_not_allowed").await;
    let res = app
        .client
        .delete(app.url("/v1/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["allow"], "GET");
    problem(res, 405, "method_not_allowed").await;
    // A literal resource beside a parameter (`/invoices/exports` beside `/invoices/{invoice_id}`)
    // advertises its own methods only.
    let res = app
        .client
        .request(
            reqwest::Method::OPTIONS,
            app.url("/v1/orgs/org_00000000000000000000000000000000/invoices/exports"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["allow"], "POST");
    problem(res, 405, "method_not_allowed").await;
}

#[tokio::test]
async fn the_request_id_is_echoed_or_generated() {
    let app = TestApp::spawn().await;
    let res = app
        .client
        .get(app.url("/healthz"))
        .header("X-Request-Id", "trace-me-42")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-request-id"], "trace-me-42");
    let res = app.get("/healthz").await;
    let generated = res.headers().get("x-request-id").unwrap().to_str().unwrap();
    assert_eq!(generated.len(), 36, "a UUID: {generated}");
    // A hostile id is replaced, not echoed.
    let res = app
        .client
        .get(app.url("/healthz"))
        .header("X-Request-Id", "a b")
        .send()
        .await
        .unwrap();
    assert_ne!(res.headers()["x-request-id"], "a b");
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Signup {
    email: String,
    age: u8,
    tags: Vec<String>,
}

async fn create(body: Json<Signup>) -> HttpResponse {
    HttpResponse::Created().json(serde_json::json!({"email": body.email}))
}

async fn fails() -> Result<HttpResponse, AppError> {
    Err(AppError::internal(
        "password=hunter2 in /srv/leman/secret.rs",
    ))
}

/// The body extractor every route uses, behind the real middleware.
async fn json_app() -> impl actix_web::dev::Service<
    actix_http::Request,
    Response = actix_web::dev::ServiceResponse,
    Error = actix_web::Error,
> {
    test::init_service(
        App::new()
            .wrap(leman::telemetry::Telemetry {
                metrics: std::sync::Arc::new(leman::metrics::Metrics::new()),
            })
            .route("/things", web::post().to(create))
            .route("/boom", web::get().to(fails)),
    )
    .await
}

async fn call(
    svc: &impl actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse,
        Error = actix_web::Error,
    >,
    content_type: Option<&str>,
    body: impl Into<actix_web::web::Bytes>,
) -> (u16, serde_json::Value) {
    let mut req = test::TestRequest::post().uri("/things");
    if let Some(ct) = content_type {
        req = req.insert_header(("content-type", ct));
    }
    let res = test::call_service(svc, req.set_payload(body.into()).to_request()).await;
    let status = res.status().as_u16();
    if status >= 400 {
        assert_eq!(
            res.headers().get("content-type").unwrap(),
            "application/problem+json"
        );
    }
    (status, test::read_body_json(res).await)
}

#[actix_web::test]
async fn json_bodies_fail_with_precise_problems() {
    let svc = json_app().await;
    let json = Some("application/json");
    let (s, b) = call(&svc, json, r#"{"email":"a@b.ch","age":30,"tags":[]}"#).await;
    assert_eq!(s, 201, "{b}");

    let (s, b) = call(&svc, json, r#"{"email":"a@b.ch","age":"#).await;
    assert_eq!((s, b["code"].as_str()), (400, Some("malformed_json")));

    let (s, b) = call(&svc, json, r#"{"email":"a@b.ch","age":30,"tags":[1]}"#).await;
    assert_eq!((s, b["code"].as_str()), (422, Some("validation_failed")));
    assert_eq!(b["errors"][0]["field"], "/tags/0");
    assert_eq!(b["errors"][0]["code"], "invalid_type");

    let (s, b) = call(&svc, json, r#"{"email":"a@b.ch","tags":[]}"#).await;
    assert_eq!(s, 422);
    assert_eq!(b["errors"][0]["field"], "/age");
    assert_eq!(b["errors"][0]["code"], "missing");

    let (s, b) = call(&svc, json, r#"{"email":"a@b.ch","age":300,"tags":[]}"#).await;
    assert_eq!((s, b["errors"][0]["field"].as_str()), (422, Some("/age")));

    let (s, b) = call(
        &svc,
        json,
        r#"{"email":"a@b.ch","age":3,"tags":[],"admin":true}"#,
    )
    .await;
    assert_eq!((s, b["errors"][0]["field"].as_str()), (422, Some("/admin")));
    assert_eq!(b["errors"][0]["code"], "unknown_field");

    let (s, b) = call(&svc, Some("text/plain"), r#"{}"#).await;
    assert_eq!(
        (s, b["code"].as_str()),
        (415, Some("unsupported_media_type"))
    );
    let (s, _) = call(&svc, None, r#"{}"#).await;
    assert_eq!(s, 415);

    let huge = format!(
        r#"{{"email":"{}","age":1,"tags":[]}}"#,
        "x".repeat(1024 * 1024)
    );
    let (s, b) = call(&svc, json, huge).await;
    assert_eq!((s, b["code"].as_str()), (413, Some("payload_too_large")));

    // Unicode passes through intact.
    let (s, b) = call(
        &svc,
        Some("application/json; charset=utf-8"),
        r#"{"email":"zoë@exämple.ch","age":1,"tags":["日本"]}"#,
    )
    .await;
    assert_eq!((s, b["email"].as_str()), (201, Some("zoë@exämple.ch")));
}

#[actix_web::test]
async fn an_internal_error_shows_no_internals() {
    let svc = json_app().await;
    let res = test::call_service(&svc, test::TestRequest::get().uri("/boom").to_request()).await;
    assert_eq!(res.status().as_u16(), 500);
    let request_id = res
        .headers()
        .get("x-request-id")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    let body = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
    assert!(
        !body.contains("hunter2") && !body.contains("/srv"),
        "{body}"
    );
    let body: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["code"], "internal_error");
    assert_eq!(body["request_id"], request_id);
}
