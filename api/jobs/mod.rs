//! Background jobs: a registry of handlers by kind, periodic schedules, and the runner that claims
//! due jobs from the durable queue (`models::jobs`). Adding a job: implement `JobHandler`,
//! register it in `registry()`, enqueue with `models::jobs::enqueue` inside the transaction that
//! causes it.

pub mod deliver_mail;
pub mod deliver_webhooks;
pub mod expire_orders;
pub mod expire_products;
pub mod poll_registry;
pub mod provision_domain;
pub mod purge_idempotency_keys;
pub mod purge_organizations;
pub mod purge_task_files;
pub mod purge_webhook_deliveries;
pub mod renew_domain;
pub mod renew_due_products;
pub mod request_password_reset;
pub mod run_task;

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use tokio::sync::watch;

use crate::context::Services;
use crate::db::{self, DbConnection};
use crate::error::AppError;
use crate::metrics::Metrics;
use crate::models::jobs::{self as job_rows, Job};

/// How long a claim holds a job before another runner may take it over.
pub const LEASE_SECS: i64 = 300;
const MAX_BACKOFF: Duration = Duration::from_secs(3600);
/// How long the runner keeps trying to record a job's outcome (its completion, retry or burial)
/// while the database is unreachable, before leaving the job to its lease: well within
/// `LEASE_SECS`, so no other runner takes over a job whose outcome is still being recorded.
pub const SETTLE_FOR: Duration = Duration::from_secs(60);
/// The longest pause of an idle loop after its database calls failed in a row (doubling from
/// `job_poll`): the runner neither hammers a database that is down nor sleeps long after it is
/// back.
const MAX_ERROR_PAUSE: Duration = Duration::from_secs(2);

/// A connection, waiting for the database to come back for at most `SETTLE_FOR`.
fn connection_waiting(pool: &db::Pool) -> Result<db::PooledConn, String> {
    let deadline = std::time::Instant::now() + SETTLE_FOR;
    let mut pause = Duration::from_millis(100);
    loop {
        match pool.get() {
            Ok(conn) => return Ok(conn),
            Err(e) if std::time::Instant::now() + pause >= deadline => return Err(e.to_string()),
            Err(_) => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(MAX_ERROR_PAUSE);
            }
        }
    }
}

/// What a job handler can reach: the same services as a route (pool, configuration, mailer,
/// catalogue, payment gateway, …), so a job can do whatever a request can.
pub struct JobContext {
    pub services: Services,
}

impl JobContext {
    pub fn new(services: Services) -> Self {
        Self { services }
    }
}

impl std::ops::Deref for JobContext {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.services
    }
}

/// A job as its handler sees it: the row plus the claim token that proves ownership.
pub struct ClaimedJob {
    pub job: Job,
    pub token: String,
}

impl ClaimedJob {
    pub fn payload<T: serde::de::DeserializeOwned>(&self) -> Result<T, String> {
        serde_json::from_str(&self.job.payload).map_err(|e| format!("bad payload: {e}"))
    }
}

impl JobContext {
    /// Commits the job's effects and its completion together: `effects` and the removal of the
    /// job run in one write transaction, and both roll back if another runner took the job over.
    /// `effects` are services' work: they fail with the services' `AppError`, which is logged
    /// with the job's retry.
    pub async fn complete<F>(&self, claimed: &ClaimedJob, effects: F) -> Result<(), String>
    where
        F: FnOnce(&mut DbConnection) -> Result<(), AppError> + Send + 'static,
    {
        let pool = self.pool.clone();
        let (id, token) = (claimed.job.id.clone(), claimed.token.clone());
        tokio::task::spawn_blocking(move || {
            // The work is done (a mail sent): wait for a database that went away rather than
            // fail, so the job is not run, and its work done, again.
            let mut conn = connection_waiting(&pool)?;
            db::write(&mut conn, |c| {
                effects(c)?;
                if job_rows::finish(c, &id, &token)? {
                    Ok(())
                } else {
                    Err(AppError::conflict(
                        "job_taken_over",
                        "another runner took the job over; its effects are rolled back",
                    ))
                }
            })
            .map_err(|e| format!("completing job {id}: {e}"))
        })
        .await
        .map_err(|e| e.to_string())?
    }
}

pub trait JobHandler: Send + Sync + 'static {
    /// Does the work. Returning `Ok` without calling `ctx.complete` completes the job with no
    /// database effects; `Err` schedules a retry (or buries the job after its last attempt).
    fn run<'a>(
        &'a self,
        ctx: &'a JobContext,
        job: &'a ClaimedJob,
    ) -> BoxFuture<'a, Result<(), String>>;

    /// Called in the transaction that marks the job dead.
    fn on_dead(&self, _conn: &mut DbConnection, _job: &Job) -> diesel::QueryResult<()> {
        Ok(())
    }
}

#[derive(Default, Clone)]
pub struct Registry {
    handlers: HashMap<String, Arc<dyn JobHandler>>,
    periodic: Vec<(String, Duration)>,
}

impl Registry {
    pub fn handler(mut self, kind: &str, handler: impl JobHandler) -> Self {
        self.handlers.insert(kind.to_string(), Arc::new(handler));
        self
    }

    /// Runs `kind` every `every` (once across all instances: the queue deduplicates it).
    pub fn periodic(mut self, kind: &str, every: Duration, handler: impl JobHandler) -> Self {
        self.periodic.push((kind.to_string(), every));
        self.handler(kind, handler)
    }
}

/// Every job Leman knows.
pub fn registry() -> Registry {
    Registry::default()
        .handler(deliver_mail::KIND, deliver_mail::DeliverMail)
        .handler(
            request_password_reset::KIND,
            request_password_reset::RequestPasswordReset,
        )
        .handler(provision_domain::KIND, provision_domain::ProvisionDomain)
        .handler(renew_domain::KIND, renew_domain::RenewDomain)
        .handler(run_task::KIND, run_task::RunTask)
        .periodic(
            purge_idempotency_keys::KIND,
            Duration::from_secs(3600),
            purge_idempotency_keys::PurgeIdempotencyKeys,
        )
        .periodic(
            expire_orders::KIND,
            Duration::from_secs(300),
            expire_orders::ExpireOrders,
        )
        .periodic(
            expire_products::KIND,
            Duration::from_secs(600),
            expire_products::ExpireProducts,
        )
        .periodic(
            purge_organizations::KIND,
            Duration::from_secs(3600),
            purge_organizations::PurgeOrganizations,
        )
        .periodic(
            renew_due_products::KIND,
            renew_due_products::EVERY,
            renew_due_products::RenewDueProducts,
        )
        .periodic(
            poll_registry::KIND,
            poll_registry::EVERY,
            poll_registry::PollRegistry,
        )
        .periodic(
            purge_task_files::KIND,
            purge_task_files::EVERY,
            purge_task_files::PurgeTaskFiles,
        )
        .periodic(
            deliver_webhooks::KIND,
            deliver_webhooks::EVERY,
            deliver_webhooks::DeliverWebhooks,
        )
        .periodic(
            purge_webhook_deliveries::KIND,
            purge_webhook_deliveries::EVERY,
            purge_webhook_deliveries::PurgeWebhookDeliveries,
        )
}

#[derive(Clone)]
pub struct Runner {
    ctx: Arc<JobContext>,
    registry: Arc<Registry>,
}

impl Runner {
    pub fn new(ctx: JobContext, registry: Registry) -> Self {
        Self {
            ctx: Arc::new(ctx),
            registry: Arc::new(registry),
        }
    }

    /// Runs until `shutdown` turns true: `job_concurrency` loops, each claiming one job at a
    /// time. A job in progress is finished before the runner stops.
    pub async fn run(self, shutdown: watch::Receiver<bool>) {
        let loops = (0..self.ctx.config.job_concurrency).map(|_| {
            let runner = self.clone();
            let mut shutdown = shutdown.clone();
            tokio::spawn(async move {
                if let Err(e) = runner.ensure_periodic().await {
                    tracing::warn!("scheduling periodic jobs: {e}");
                }
                let poll = runner.ctx.config.job_poll;
                // Failures in a row: while the database is down, one warning, then one every
                // 30th, and pauses doubling up to MAX_ERROR_PAUSE; the loop itself never ends.
                let mut failures = 0u32;
                while !*shutdown.borrow() {
                    let pause = match runner.run_once().await {
                        Ok(more) => {
                            if failures > 0 {
                                tracing::info!(failures, "job runner: the database answers again");
                                failures = 0;
                            }
                            if more {
                                continue;
                            }
                            poll
                        }
                        Err(e) => {
                            failures += 1;
                            if failures == 1 || failures.is_multiple_of(30) {
                                tracing::warn!(failures, "job runner: {e}");
                            }
                            error_pause(poll, failures)
                        }
                    };
                    tokio::select! {
                        _ = tokio::time::sleep(pause) => {}
                        _ = shutdown.changed() => {}
                    }
                }
            })
        });
        futures_util::future::join_all(loops).await;
    }

    /// Queues the next run of each periodic job that has none queued.
    pub async fn ensure_periodic(&self) -> Result<(), String> {
        let periodic = self.registry.periodic.clone();
        let attempts = self.ctx.config.job_max_attempts;
        self.blocking(move |conn| {
            for (kind, every) in periodic {
                let mut job = job_rows::NewJob::new(&kind, serde_json::json!({}), attempts);
                job.unique_key = Some(format!("periodic:{kind}"));
                job.run_at =
                    Some(db::now() + chrono::Duration::from_std(every).unwrap_or_default());
                job_rows::enqueue(conn, job)?;
            }
            Ok(())
        })
        .await
    }

    /// Claims and runs one due job; `Ok(false)` when none was due.
    pub async fn run_once(&self) -> Result<bool, String> {
        let token = db::new_id("claim");
        let claim_token = token.clone();
        let Some(job) = self
            .blocking(move |conn| job_rows::claim(conn, &claim_token, LEASE_SECS))
            .await?
        else {
            return Ok(false);
        };
        let kind = job.kind.clone();
        let claimed = ClaimedJob { job, token };
        let outcome = match self.registry.handlers.get(&kind) {
            None => Err(format!("no handler for job kind `{kind}`")),
            Some(handler) => AssertUnwindSafe(handler.run(&self.ctx, &claimed))
                .catch_unwind()
                .await
                .unwrap_or_else(|_| Err("the handler panicked".into())),
        };
        let ClaimedJob { job, token } = claimed;
        match outcome {
            Ok(()) => {
                let (id, t) = (job.id.clone(), token.clone());
                // A no-op when the handler already completed the job with its effects.
                self.settling(move |conn| db::write(conn, |c| job_rows::finish(c, &id, &t)))
                    .await?;
                Metrics::kind(&self.ctx.metrics.jobs_succeeded, &kind);
                if self.registry.periodic.iter().any(|(k, _)| *k == kind) {
                    self.ensure_periodic().await?;
                }
            }
            Err(error) if job.attempts >= job.max_attempts => {
                tracing::error!(job_id = %job.id, kind = %kind, attempts = job.attempts, "job dead: {error}");
                let handler = self.registry.handlers.get(&kind).cloned();
                self.settling(move |conn| {
                    db::write(conn, |c| {
                        if job_rows::bury(c, &job.id, &token, &error)?
                            && let Some(handler) = handler
                        {
                            handler.on_dead(c, &job)?;
                        }
                        Ok(())
                    })
                })
                .await?;
                Metrics::kind(&self.ctx.metrics.jobs_dead, &kind);
                if self.registry.periodic.iter().any(|(k, _)| *k == kind) {
                    self.ensure_periodic().await?;
                }
            }
            Err(error) => {
                let delay = backoff(self.ctx.config.job_backoff, job.attempts);
                tracing::warn!(job_id = %job.id, kind = %kind, attempts = job.attempts, retry_in_ms = delay.as_millis() as u64, "job failed: {error}");
                let run_at = db::now() + chrono::Duration::from_std(delay).unwrap_or_default();
                self.settling(move |conn| job_rows::retry(conn, &job.id, &token, &error, run_at))
                    .await?;
                Metrics::kind(&self.ctx.metrics.jobs_failed, &kind);
            }
        }
        Ok(true)
    }

    /// Like `blocking`, for recording a claimed job's outcome: waits for the database when it is
    /// unreachable (`connection_waiting`), so the job is not left claimed, untouched until its
    /// lease ends, because the database was away for a moment when it finished.
    async fn settling<T, F>(&self, f: F) -> Result<T, String>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> diesel::QueryResult<T> + Send + 'static,
    {
        let pool = self.ctx.pool.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = connection_waiting(&pool)?;
            f(&mut conn).map_err(|e| e.to_string())
        })
        .await
        .map_err(|e| e.to_string())?
    }

    async fn blocking<T, F>(&self, f: F) -> Result<T, String>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> diesel::QueryResult<T> + Send + 'static,
    {
        let pool = self.ctx.pool.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = pool.get().map_err(|e| e.to_string())?;
            f(&mut conn).map_err(|e| e.to_string())
        })
        .await
        .map_err(|e| e.to_string())?
    }
}

impl Registry {
    /// The kinds of the periodic jobs, sorted.
    pub fn periodic_kinds(&self) -> Vec<String> {
        let mut kinds: Vec<String> = self.periodic.iter().map(|(k, _)| k.clone()).collect();
        kinds.sort();
        kinds
    }
}

impl Runner {
    /// Runs the periodic job `kind` once, now (`leman jobs run KIND`): its row is made already
    /// claimed by this call, its handler runs, the row goes. An unknown kind is an error naming
    /// the periodic kinds.
    pub async fn run_now(&self, kind: &str) -> Result<(), String> {
        let Some(handler) = self
            .registry
            .periodic
            .iter()
            .any(|(k, _)| k == kind)
            .then(|| self.registry.handlers.get(kind).cloned())
            .flatten()
        else {
            return Err(format!(
                "no periodic job `{kind}`; periodic jobs: {}",
                self.registry.periodic_kinds().join(", ")
            ));
        };
        let token = db::new_id("claim");
        let (k, t) = (kind.to_string(), token.clone());
        let job = self
            .blocking(move |conn| crate::models::job_runs::insert_claimed(conn, &k, &t, LEASE_SECS))
            .await?;
        let id = job.id.clone();
        let claimed = ClaimedJob { job, token };
        let outcome = handler.run(&self.ctx, &claimed).await;
        let t = claimed.token.clone();
        self.blocking(move |conn| db::write(conn, |c| job_rows::finish(c, &id, &t)))
            .await?;
        outcome
    }
}

/// The pause of an idle loop after `failures` failed passes in a row: `poll` doubled at each,
/// capped at `MAX_ERROR_PAUSE` (or `poll` when that is longer).
fn error_pause(poll: Duration, failures: u32) -> Duration {
    let doubled = poll.saturating_mul(2u32.saturating_pow(failures.saturating_sub(1).min(16)));
    doubled.min(MAX_ERROR_PAUSE.max(poll))
}

/// Delay before retry `attempt` (1-based): base × 2^(attempt−1), capped at an hour, plus up to
/// 10 % jitter so failed jobs do not all return at once.
pub fn backoff(base: Duration, attempt: i32) -> Duration {
    let exp = (attempt.max(1) - 1).min(20) as u32;
    let delay = base
        .saturating_mul(2u32.saturating_pow(exp))
        .min(MAX_BACKOFF);
    let jitter = rand::random_range(0.0..0.1);
    delay + delay.mul_f64(jitter)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failing_loop_pauses_longer_up_to_a_cap() {
        let poll = Duration::from_millis(100);
        let pauses: Vec<u128> = (1..=8).map(|f| error_pause(poll, f).as_millis()).collect();
        assert_eq!(pauses, [100, 200, 400, 800, 1600, 2000, 2000, 2000]);
        // A poll longer than the cap is never shortened.
        assert_eq!(
            error_pause(Duration::from_secs(5), 3),
            Duration::from_secs(5)
        );
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        let base = Duration::from_secs(5);
        for (attempt, secs) in [(1, 5), (2, 10), (3, 20), (4, 40)] {
            let d = backoff(base, attempt);
            assert!(
                d >= Duration::from_secs(secs) && d <= Duration::from_secs(secs).mul_f64(1.1),
                "{attempt}: {d:?}"
            );
        }
        assert!(backoff(base, 40) <= MAX_BACKOFF.mul_f64(1.1));
    }
}
