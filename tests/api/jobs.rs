//! The durable job queue and its runner.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use diesel::prelude::*;
use futures_util::future::BoxFuture;
use leman::db::schema::jobs;
use leman::jobs::{ClaimedJob, JobContext, JobHandler, Registry, Runner};
use leman::models::jobs::{self as job_rows, NewJob};

use crate::helpers::{TestApp, test_config};

struct AlwaysFails;

impl JobHandler for AlwaysFails {
    fn run<'a>(
        &'a self,
        _ctx: &'a JobContext,
        _job: &'a ClaimedJob,
    ) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async { Err("the remote end said no".to_string()) })
    }
}

struct Noop;

impl JobHandler for Noop {
    fn run<'a>(
        &'a self,
        _ctx: &'a JobContext,
        _job: &'a ClaimedJob,
    ) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async { Ok(()) })
    }
}

/// Records which job ids it ran and commits a follow-up job as its effect.
#[derive(Clone, Default)]
struct Records {
    ran: Arc<Mutex<Vec<String>>>,
}

impl JobHandler for Records {
    fn run<'a>(
        &'a self,
        ctx: &'a JobContext,
        job: &'a ClaimedJob,
    ) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            self.ran.lock().unwrap().push(job.job.id.clone());
            let follow = job.job.id.clone();
            ctx.complete(job, move |c| {
                job_rows::enqueue(
                    c,
                    NewJob::new("followup", serde_json::json!({ "after": follow }), 1),
                )?;
                Ok(())
            })
            .await
        })
    }
}

fn runner(app: &TestApp, registry: Registry) -> Runner {
    let s = &app.services;
    Runner::new(JobContext::new(s.clone()), registry)
}

async fn enqueue(app: &TestApp, job: NewJob) -> Option<String> {
    app.with_conn(move |c| job_rows::enqueue(c, job).unwrap())
        .await
}

async fn make_due(app: &TestApp) {
    app.with_conn(|c| {
        diesel::update(jobs::table)
            .set(jobs::run_at.eq(jobs::created_at))
            .execute(c)
            .unwrap()
    })
    .await;
}

async fn job(app: &TestApp, id: &str) -> Option<job_rows::Job> {
    let id = id.to_string();
    app.with_conn(move |c| job_rows::find(c, &id).unwrap())
        .await
}

#[tokio::test]
async fn a_failing_job_is_retried_with_backoff_then_dead() {
    let app = TestApp::builder()
        .without_jobs()
        .env("LEMAN_JOB_BACKOFF_MS", "60000")
        .spawn()
        .await;
    let runner = runner(&app, Registry::default().handler("flaky", AlwaysFails));
    let id = enqueue(&app, NewJob::new("flaky", serde_json::json!({}), 3))
        .await
        .unwrap();

    let before = leman::db::now();
    assert!(runner.run_once().await.unwrap());
    let after_first = job(&app, &id).await.unwrap();
    assert_eq!(
        (after_first.status.as_str(), after_first.attempts),
        ("pending", 1)
    );
    assert_eq!(
        after_first.last_error.as_deref(),
        Some("the remote end said no")
    );
    let delay = after_first.run_at - before;
    assert!(
        delay >= chrono::Duration::seconds(60),
        "first retry after the base delay: {delay}"
    );
    assert!(
        !runner.run_once().await.unwrap(),
        "not due before its backoff"
    );

    make_due(&app).await;
    assert!(runner.run_once().await.unwrap());
    let after_second = job(&app, &id).await.unwrap();
    let delay = after_second.run_at - leman::db::now();
    assert!(
        delay >= chrono::Duration::seconds(115),
        "the delay doubles: {delay}"
    );

    make_due(&app).await;
    assert!(runner.run_once().await.unwrap());
    let dead = job(&app, &id).await.unwrap();
    assert_eq!((dead.status.as_str(), dead.attempts), ("dead", 3));
    make_due(&app).await;
    assert!(
        !runner.run_once().await.unwrap(),
        "a dead job is not run again"
    );
    let text = app.get("/metrics").await.text().await.unwrap();
    assert!(
        text.contains(r#"leman_jobs_dead_total{kind="flaky"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(r#"leman_jobs_failed_total{kind="flaky"} 2"#),
        "{text}"
    );
    assert!(text.contains(r#"leman_jobs{state="dead"} 1"#), "{text}");
}

#[tokio::test]
async fn a_job_without_a_handler_is_not_lost() {
    let app = TestApp::builder().without_jobs().spawn().await;
    let runner = runner(&app, Registry::default());
    let id = enqueue(&app, NewJob::new("unknown_kind", serde_json::json!({}), 1))
        .await
        .unwrap();
    assert!(runner.run_once().await.unwrap());
    let j = job(&app, &id).await.unwrap();
    assert_eq!(j.status, "dead");
    assert!(j.last_error.unwrap().contains("no handler"));
}

#[tokio::test]
async fn a_job_and_its_effects_commit_together() {
    let app = TestApp::builder().without_jobs().spawn().await;
    let records = Records::default();
    let runner = runner(&app, Registry::default().handler("work", records.clone()));
    let id = enqueue(&app, NewJob::new("work", serde_json::json!({}), 3))
        .await
        .unwrap();
    assert!(runner.run_once().await.unwrap());
    assert!(job(&app, &id).await.is_none(), "a completed job is removed");
    let kinds: Vec<String> = app
        .with_conn(|c| jobs::table.select(jobs::kind).load(c).unwrap())
        .await;
    assert_eq!(kinds, vec!["followup".to_string()], "its effect committed");
}

/// Takes the job away from its runner mid-run: the effects must roll back.
struct LosesItsLease {
    app_pool: leman::db::Pool,
}

impl JobHandler for LosesItsLease {
    fn run<'a>(
        &'a self,
        ctx: &'a JobContext,
        job: &'a ClaimedJob,
    ) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            let pool = self.app_pool.clone();
            let id = job.job.id.clone();
            tokio::task::spawn_blocking(move || {
                diesel::update(jobs::table.find(id))
                    .set(jobs::locked_by.eq("another-runner"))
                    .execute(&mut *pool.get().unwrap())
                    .unwrap();
            })
            .await
            .unwrap();
            ctx.complete(job, |c| {
                job_rows::enqueue(c, NewJob::new("effect", serde_json::json!({}), 1))?;
                Ok(())
            })
            .await
        })
    }
}

#[tokio::test]
async fn effects_roll_back_when_the_job_was_taken_over() {
    let app = TestApp::builder().without_jobs().spawn().await;
    let runner = runner(
        &app,
        Registry::default().handler(
            "lease",
            LosesItsLease {
                app_pool: app.services.pool.clone(),
            },
        ),
    );
    enqueue(&app, NewJob::new("lease", serde_json::json!({}), 3))
        .await
        .unwrap();
    assert!(runner.run_once().await.unwrap());
    let kinds: Vec<String> = app
        .with_conn(|c| jobs::table.select(jobs::kind).load(c).unwrap())
        .await;
    assert_eq!(
        kinds,
        vec!["lease".to_string()],
        "no effect committed, the job stays with its new owner"
    );
}

#[tokio::test]
async fn unique_keys_deduplicate_and_scheduled_jobs_wait() {
    let app = TestApp::builder().without_jobs().spawn().await;
    let mut job = NewJob::new("work", serde_json::json!({}), 3);
    job.unique_key = Some("renew:prd_1".into());
    job.run_at = Some(leman::db::now() + chrono::Duration::hours(1));
    assert!(enqueue(&app, job.clone()).await.is_some());
    assert!(enqueue(&app, job.clone()).await.is_none(), "deduplicated");
    let records = Records::default();
    let runner = runner(&app, Registry::default().handler("work", records.clone()));
    assert!(!runner.run_once().await.unwrap(), "scheduled for later");
    make_due(&app).await;
    assert!(runner.run_once().await.unwrap());
    assert_eq!(records.ran.lock().unwrap().len(), 1);
    assert!(
        enqueue(&app, job).await.is_some(),
        "the key is free once the job is done"
    );
}

#[tokio::test]
async fn a_duplicate_key_inside_a_transaction_leaves_it_usable() {
    let app = TestApp::builder().without_jobs().spawn().await;
    let ok = app
        .with_conn(|c| {
            leman::db::write(c, |c| {
                let mut job = NewJob::new("work", serde_json::json!({}), 3);
                job.unique_key = Some("once".into());
                job_rows::enqueue(c, job.clone())?;
                assert!(job_rows::enqueue(c, job)?.is_none());
                job_rows::enqueue(c, NewJob::new("other", serde_json::json!({}), 3))
            })
        })
        .await;
    assert!(ok.unwrap().is_some());
    let n: i64 = app
        .with_conn(|c| jobs::table.count().get_result(c).unwrap())
        .await;
    assert_eq!(n, 2);
}

#[tokio::test]
async fn two_runners_never_run_the_same_job_twice() {
    let app = TestApp::builder().without_jobs().spawn().await;
    app.with_conn(|c| {
        for i in 0..120 {
            job_rows::enqueue(c, NewJob::new("work", serde_json::json!({ "n": i }), 3)).unwrap();
        }
    })
    .await;
    let records = Records::default();
    // Two runners as two instances would have them: each its own pool on the same database.
    let mut runners = Vec::new();
    for _ in 0..2 {
        let mut vars = std::collections::HashMap::new();
        vars.insert("LEMAN_JOB_CONCURRENCY".to_string(), "3".to_string());
        let config = test_config(app.data_dir.path(), &app.db.url, vars);
        let pool = leman::db::build_pool(&config.database_url, 4).unwrap();
        runners.push(Runner::new(
            JobContext::new(leman::context::Services {
                pool,
                config: Arc::new(config),
                ..app.services.clone()
            }),
            Registry::default()
                .handler("work", records.clone())
                .handler("followup", Noop),
        ));
    }
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let handles: Vec<_> = runners
        .into_iter()
        .map(|r| tokio::spawn(r.run(stopped.clone())))
        .collect();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while records.ran.lock().unwrap().len() < 120 {
        assert!(std::time::Instant::now() < deadline, "runners too slow");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.send(true).unwrap();
    for h in handles {
        h.await.unwrap();
    }
    let mut ran = records.ran.lock().unwrap().clone();
    assert_eq!(ran.len(), 120, "no job ran twice");
    ran.sort();
    ran.dedup();
    assert_eq!(ran.len(), 120);
}

#[tokio::test]
async fn periodic_jobs_are_queued_once() {
    let app = TestApp::builder().without_jobs().spawn().await;
    let runner = app.services.runner();
    runner.ensure_periodic().await.unwrap();
    runner.ensure_periodic().await.unwrap();
    let mut keys: Vec<Option<String>> = app
        .with_conn(|c| jobs::table.select(jobs::unique_key).load(c).unwrap())
        .await;
    keys.sort();
    assert_eq!(
        keys,
        vec![
            Some("periodic:deliver_webhooks".to_string()),
            Some("periodic:expire_orders".to_string()),
            Some("periodic:expire_products".to_string()),
            Some("periodic:poll_registry".to_string()),
            Some("periodic:purge_idempotency_keys".to_string()),
            Some("periodic:purge_organizations".to_string()),
            Some("periodic:purge_task_files".to_string()),
            Some("periodic:purge_webhook_deliveries".to_string()),
            Some("periodic:renew_due_products".to_string())
        ]
    );
}

/// The daily purge drops webhook deliveries finished more than 30 days ago and keeps the
/// pending ones and the recent ones.
#[tokio::test]
async fn purge_webhook_deliveries_keeps_a_month_and_everything_pending() {
    use crate::helpers::{ok, send};
    use leman::db::schema::webhook_deliveries as d;
    // Jobs off: the deliveries below must keep the states the test gives them.
    let app = TestApp::builder().without_jobs().spawn().await;
    let (_, s) = app.signed_in("purge-hooks@example.com").await;
    let org = app.an_org(&s).await;
    let hook = serde_json::json!({"url": "https://1.1.1.1/x", "event_types": ["invoice.paid"]});
    let path = format!("/v1/orgs/{}/webhook-endpoints", org.id);
    ok(
        send(&app, reqwest::Method::POST, &path, &s, Some(hook)).await,
        201,
    )
    .await;
    let org_id = org.id.clone();
    app.with_conn(move |c| {
        let old = leman::db::now() - chrono::Duration::days(31);
        let recent = leman::db::now() - chrono::Duration::days(29);
        // Five deliveries: old succeeded, old failed, old pending, recent succeeded, recent failed.
        for (status, at) in [
            ("succeeded", old),
            ("failed", old),
            ("pending", old),
            ("succeeded", recent),
            ("failed", recent),
        ] {
            leman::services::outgoing_webhooks::publish(
                c,
                &org_id,
                leman::domain::webhooks::WebhookEventType::InvoicePaid,
                Some("inv_x"),
                &serde_json::Map::new(),
            )
            .unwrap();
            let id: String = d::table
                .order(d::created_at.desc())
                .filter(d::status.eq("pending"))
                .filter(d::created_at.gt(leman::db::now() - chrono::Duration::days(1)))
                .select(d::id)
                .first(c)
                .unwrap();
            diesel::update(d::table.find(&id))
                .set((d::status.eq(status), d::created_at.eq(at)))
                .execute(c)
                .unwrap();
        }
    })
    .await;
    let out = app.cli(&["jobs", "run", "purge_webhook_deliveries"], &[]);
    assert!(out.status.success(), "{out:?}");
    let mut left: Vec<(String, bool)> = app
        .with_conn(|c| {
            let month_ago = leman::db::now() - chrono::Duration::days(30);
            d::table
                .select((d::status, d::created_at))
                .load::<(String, chrono::NaiveDateTime)>(c)
                .unwrap()
                .into_iter()
                .map(|(s, at)| (s, at < month_ago))
                .collect()
        })
        .await;
    left.sort();
    assert_eq!(
        left,
        vec![
            ("failed".to_string(), false),
            ("pending".to_string(), true),
            ("succeeded".to_string(), false),
        ]
    );
}
