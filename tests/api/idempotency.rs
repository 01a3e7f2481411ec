//! `Idempotency-Key`: the real middleware on the real database, in front of a handler that counts
//! how often it really ran.

use std::sync::atomic::{AtomicUsize, Ordering};

use actix_web::{App, HttpResponse, test, web};
use leman::error::AppError;
use leman::http::Json;
use leman::http::idempotency::Idempotency;
use tokio::sync::Notify;

use crate::helpers::{TestApp, send};

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Charge {
    amount: String,
    #[serde(default, rename = "note")]
    _note: Option<String>,
}

struct Counter {
    calls: AtomicUsize,
    release: Notify,
}

async fn charge(
    body: Json<Charge>,
    counter: web::Data<Counter>,
    pool: web::Data<leman::db::Pool>,
) -> Result<HttpResponse, AppError> {
    if body.amount == "0" {
        return Err(AppError::field("/amount", "invalid", "must be positive"));
    }
    let n = counter.calls.fetch_add(1, Ordering::SeqCst) + 1;
    // Commits a change (an empty write transaction), then hangs until released: the request
    // dies here when the test drops it, as a killed process would.
    if body.amount == "commit-then-fail" {
        leman::db::run(&pool, |c| leman::db::write(c, |_| Ok::<(), AppError>(()))).await?;
        return Err(AppError::unavailable("database_unavailable", "Lost it."));
    }
    if body.amount == "commit-then-hang" {
        leman::db::run(&pool, |c| leman::db::write(c, |_| Ok::<(), AppError>(()))).await?;
        counter.release.notified().await;
    }
    if body.amount == "slow" {
        counter.release.notified().await;
    }
    if body.amount == "secret" {
        return Ok(HttpResponse::Created()
            .insert_header(("Cache-Control", "no-store"))
            .json(serde_json::json!({"charge": n, "secret": "lmn_shown_once"})));
    }
    Ok(HttpResponse::Created().json(serde_json::json!({"charge": n, "amount": body.amount})))
}

struct Harness {
    app: TestApp,
    counter: web::Data<Counter>,
    /// Access tokens of two signed-in people, `usr_a` and `usr_b`.
    bearers: std::collections::HashMap<&'static str, crate::helpers::TestSession>,
}

impl Harness {
    async fn new() -> Self {
        let app = TestApp::builder().without_jobs().spawn().await;
        let counter = web::Data::new(Counter {
            calls: AtomicUsize::new(0),
            release: Notify::new(),
        });
        let mut bearers = std::collections::HashMap::new();
        for (name, email) in [("usr_a", "a@example.ch"), ("usr_b", "b@example.ch")] {
            bearers.insert(name, app.signed_in(email).await.1);
        }
        Self {
            app,
            counter,
            bearers,
        }
    }

    async fn service(
        &self,
    ) -> impl actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse,
        Error = actix_web::Error,
    > {
        test::init_service(
            App::new()
                .app_data(web::Data::new(self.app.services.pool.clone()))
                .app_data(web::Data::new(self.app.services.keys.clone()))
                .app_data(self.counter.clone())
                .service(
                    web::scope("/v1")
                        .wrap(Idempotency)
                        .route("/charges", web::post().to(charge)),
                ),
        )
        .await
    }

    fn request(&self, user: Option<&str>, key: Option<&str>, amount: &str) -> actix_http::Request {
        let mut req = test::TestRequest::post()
            .uri("/v1/charges")
            .set_json(serde_json::json!({"amount": amount}));
        if let Some(user) = user {
            req = req.insert_header(("authorization", self.bearer(user)));
        }
        if let Some(key) = key {
            req = req.insert_header(("idempotency-key", key));
        }
        req.to_request()
    }

    fn bearer(&self, user: &str) -> String {
        format!("Bearer {}", self.bearers[user].access_token)
    }

    fn calls(&self) -> usize {
        self.counter.calls.load(Ordering::SeqCst)
    }
}

async fn json(res: actix_web::dev::ServiceResponse) -> (u16, Option<String>, serde_json::Value) {
    let status = res.status().as_u16();
    let replayed = res
        .headers()
        .get("idempotent-replayed")
        .map(|v| v.to_str().unwrap().to_string());
    (status, replayed, test::read_body_json(res).await)
}

#[actix_web::test]
async fn the_same_key_and_body_replay_the_first_response() {
    let h = Harness::new().await;
    let svc = h.service().await;
    let (s, replayed, first) =
        json(test::call_service(&svc, h.request(Some("usr_a"), Some("k-1"), "10.00")).await).await;
    assert_eq!((s, replayed), (201, None));
    let (s, replayed, again) =
        json(test::call_service(&svc, h.request(Some("usr_a"), Some("k-1"), "10.00")).await).await;
    assert_eq!((s, replayed.as_deref()), (201, Some("true")));
    assert_eq!(first, again);
    assert_eq!(h.calls(), 1, "the handler ran once");
    // Without a key every request runs.
    test::call_service(&svc, h.request(Some("usr_a"), None, "10.00")).await;
    assert_eq!(h.calls(), 2);
}

#[actix_web::test]
async fn the_same_key_with_another_body_is_refused() {
    let h = Harness::new().await;
    let svc = h.service().await;
    test::call_service(&svc, h.request(Some("usr_a"), Some("k-2"), "10.00")).await;
    let (s, _, body) =
        json(test::call_service(&svc, h.request(Some("usr_a"), Some("k-2"), "99.00")).await).await;
    assert_eq!(
        (s, body["code"].as_str()),
        (422, Some("idempotency_key_reused"))
    );
    assert_eq!(h.calls(), 1);
}

#[actix_web::test]
async fn the_same_json_written_differently_is_the_same_request() {
    let h = Harness::new().await;
    let svc = h.service().await;
    let send = |body: &'static str| {
        test::TestRequest::post()
            .uri("/v1/charges")
            .insert_header(("content-type", "application/json"))
            .insert_header(("authorization", h.bearer("usr_a")))
            .insert_header(("idempotency-key", "k-order"))
            .set_payload(body)
            .to_request()
    };
    let (s, replayed, _) =
        json(test::call_service(&svc, send(r#"{"amount":"10.00","note":"x"}"#)).await).await;
    assert_eq!((s, replayed), (201, None));
    let (s, replayed, _) =
        json(test::call_service(&svc, send("{ \"note\": \"x\",\n  \"amount\": \"10.00\" }")).await)
            .await;
    assert_eq!((s, replayed.as_deref()), (201, Some("true")));
    assert_eq!(h.calls(), 1);
}

#[actix_web::test]
async fn an_ended_session_gets_no_replay() {
    let h = Harness::new().await;
    let svc = h.service().await;
    let (s, _, _) =
        json(test::call_service(&svc, h.request(Some("usr_a"), Some("k-end"), "10.00")).await)
            .await;
    assert_eq!(s, 201);
    let res = send(
        &h.app,
        reqwest::Method::POST,
        "/v1/auth/logout",
        &h.bearers["usr_a"].access_token,
        None,
    )
    .await;
    assert_eq!(res.status(), 204);
    let res = test::call_service(&svc, h.request(Some("usr_a"), Some("k-end"), "10.00")).await;
    assert_eq!(res.status(), 401);
    assert!(res.headers().get("idempotent-replayed").is_none());
    assert_eq!(h.calls(), 1);
}

#[actix_web::test]
async fn keys_are_scoped_to_the_caller() {
    let h = Harness::new().await;
    let svc = h.service().await;
    test::call_service(&svc, h.request(Some("usr_a"), Some("shared"), "10.00")).await;
    let (s, replayed, _) =
        json(test::call_service(&svc, h.request(Some("usr_b"), Some("shared"), "10.00")).await)
            .await;
    assert_eq!((s, replayed), (201, None));
    assert_eq!(h.calls(), 2);
}

#[actix_web::test]
async fn a_request_that_failed_validation_stores_nothing() {
    let h = Harness::new().await;
    let svc = h.service().await;
    let (s, _, _) =
        json(test::call_service(&svc, h.request(Some("usr_a"), Some("k-3"), "0")).await).await;
    assert_eq!(s, 422);
    // The corrected request with the same key runs.
    let (s, replayed, _) =
        json(test::call_service(&svc, h.request(Some("usr_a"), Some("k-3"), "5.00")).await).await;
    assert_eq!((s, replayed), (201, None));
    assert_eq!(h.calls(), 1);
}

#[actix_web::test]
async fn a_concurrent_duplicate_is_409_while_the_first_runs() {
    let h = Harness::new().await;
    let svc = h.service().await;
    let first = test::call_service(&svc, h.request(Some("usr_a"), Some("k-4"), "slow"));
    let second = async {
        while h.calls() == 0 {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        let res = test::call_service(&svc, h.request(Some("usr_a"), Some("k-4"), "slow")).await;
        h.counter.release.notify_one();
        res
    };
    let (first, second) = tokio::join!(first, second);
    assert_eq!(first.status(), 201);
    let (s, _, body) = json(second).await;
    assert_eq!(
        (s, body["code"].as_str()),
        (409, Some("idempotency_key_in_use"))
    );
    assert_eq!(h.calls(), 1);
}

#[actix_web::test]
async fn a_malformed_key_is_refused_and_anonymous_calls_pass_through() {
    let h = Harness::new().await;
    let svc = h.service().await;
    let long = "k".repeat(256);
    let (s, _, body) =
        json(test::call_service(&svc, h.request(Some("usr_a"), Some(&long), "1.00")).await).await;
    assert_eq!(
        (s, body["errors"][0]["field"].as_str()),
        (422, Some("Idempotency-Key"))
    );
    // No valid caller: the key cannot be scoped; the route decides (here it just runs).
    test::call_service(&svc, h.request(None, Some("anon"), "1.00")).await;
    test::call_service(&svc, h.request(None, Some("anon"), "1.00")).await;
    assert_eq!(h.calls(), 2);
}

#[actix_web::test]
async fn expired_keys_are_purged_by_the_periodic_job() {
    use diesel::prelude::*;
    let h = Harness::new().await;
    let svc = h.service().await;
    test::call_service(&svc, h.request(Some("usr_a"), Some("old"), "1.00")).await;
    test::call_service(&svc, h.request(Some("usr_a"), Some("new"), "1.00")).await;
    h.app
        .with_conn(|c| {
            diesel::sql_query(
                "UPDATE idempotency_keys SET expires_at = created_at WHERE idem_key = 'old'",
            )
            .execute(c)
            .unwrap();
        })
        .await;
    let runner = h.app.services.runner();
    runner.ensure_periodic().await.unwrap();
    h.app
        .with_conn(|c| {
            diesel::sql_query("UPDATE jobs SET run_at = created_at")
                .execute(c)
                .unwrap()
        })
        .await;
    assert!(runner.run_once().await.unwrap());
    let left: Vec<String> = h
        .app
        .with_conn(|c| {
            leman::db::schema::idempotency_keys::table
                .select(leman::db::schema::idempotency_keys::idem_key)
                .load(c)
                .unwrap()
        })
        .await;
    assert_eq!(left, vec!["new".to_string()]);
    // The next run is scheduled.
    let queued: i64 = h
        .app
        .with_conn(|c| {
            use leman::db::schema::jobs;
            jobs::table
                .filter(jobs::unique_key.eq("periodic:purge_idempotency_keys"))
                .count()
                .get_result(c)
                .unwrap()
        })
        .await;
    assert_eq!(queued, 1);
}

#[actix_web::test]
async fn a_response_marked_no_store_is_never_kept() {
    use diesel::prelude::*;
    let h = Harness::new().await;
    let svc = h.service().await;
    test::call_service(&svc, h.request(Some("usr_a"), Some("k-secret"), "secret")).await;
    let (s, replayed, body) =
        json(test::call_service(&svc, h.request(Some("usr_a"), Some("k-secret"), "secret")).await)
            .await;
    assert_eq!(
        (s, replayed, body["charge"].as_u64()),
        (201, None, Some(2)),
        "acted again rather than replaying a secret"
    );
    let stored: i64 = h
        .app
        .with_conn(|c| {
            leman::db::schema::idempotency_keys::table
                .count()
                .get_result(c)
                .unwrap()
        })
        .await;
    assert_eq!(stored, 0);
}

/// What a request with a key left behind when it died (the handler's future dropped mid-way, as
/// a killed process leaves it), its lease then run out.
async fn die_and_age(
    h: &Harness,
    svc: &impl actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse,
        Error = actix_web::Error,
    >,
    key: &str,
    amount: &str,
) -> String {
    let dropped = tokio::time::timeout(
        std::time::Duration::from_millis(300),
        test::call_service(svc, h.request(Some("usr_a"), Some(key), amount)),
    )
    .await;
    assert!(
        dropped.is_err(),
        "the request was still running when it died"
    );
    let key = key.to_string();
    h.app
        .with_conn(move |c| {
            use diesel::prelude::*;
            use leman::db::schema::idempotency_keys as k;
            let status: String = k::table
                .filter(k::idem_key.eq(&key))
                .select(k::status)
                .first(c)
                .unwrap();
            diesel::update(k::table.filter(k::idem_key.eq(&key)))
                .set(k::created_at.eq(leman::db::now() - chrono::Duration::seconds(301)))
                .execute(c)
                .unwrap();
            status
        })
        .await
}

#[actix_web::test]
async fn a_request_that_committed_and_died_is_never_run_again_under_its_key() {
    let h = Harness::new().await;
    let svc = h.service().await;
    let status = die_and_age(&h, &svc, "k-crash", "commit-then-hang").await;
    assert_eq!(
        status, "committed",
        "the change's transaction marked its key"
    );
    assert_eq!(h.calls(), 1);
    let res = test::call_service(
        &svc,
        h.request(Some("usr_a"), Some("k-crash"), "commit-then-hang"),
    )
    .await;
    let (s, _, body) = json(res).await;
    assert_eq!(s, 409, "{body}");
    assert_eq!(body["code"], "idempotency_key_outcome_unknown");
    assert_eq!(h.calls(), 1, "not run a second time");
    // Another body under that key is still the mismatch it always was.
    let (s, _, body) =
        json(test::call_service(&svc, h.request(Some("usr_a"), Some("k-crash"), "5.00")).await)
            .await;
    assert_eq!(
        (s, body["code"].as_str()),
        (422, Some("idempotency_key_reused"))
    );
}

#[actix_web::test]
async fn a_request_that_died_before_changing_anything_runs_again_after_its_lease() {
    let h = Harness::new().await;
    let svc = h.service().await;
    let status = die_and_age(&h, &svc, "k-early", "slow").await;
    assert_eq!(
        status, "in_flight",
        "nothing committed: the key is not marked"
    );
    let (s, replayed, _) = json(
        test::call_service(
            &svc,
            h.request(Some("usr_a"), Some("k-early"), "slow-no-more"),
        )
        .await,
    )
    .await;
    // Another body: the abandoned key is taken afresh.
    assert_eq!((s, replayed), (201, None));
    assert_eq!(h.calls(), 2);
}

#[actix_web::test]
async fn an_error_answered_after_a_committed_change_is_replayed_not_run_again() {
    let h = Harness::new().await;
    let svc = h.service().await;
    let (s, replayed, _) = json(
        test::call_service(
            &svc,
            h.request(Some("usr_a"), Some("k-fail"), "commit-then-fail"),
        )
        .await,
    )
    .await;
    assert_eq!((s, replayed), (503, None));
    let (s, replayed, body) = json(
        test::call_service(
            &svc,
            h.request(Some("usr_a"), Some("k-fail"), "commit-then-fail"),
        )
        .await,
    )
    .await;
    assert_eq!((s, replayed.as_deref()), (503, Some("true")), "{body}");
    assert_eq!(h.calls(), 1, "the change is not made twice");
}
