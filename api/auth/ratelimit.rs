//! Rate limits on the sign-in routes, per IP and per account. Beyond the limit: 429
//! `rate_limited` with `Retry-After`.
//!
//! Where the counts live follows the database: on PostgreSQL, where several instances may serve
//! one database, a counter per key and minute in the database (`models::rate_limit_counters`),
//! so three instances do not triple an allowance; on SQLite, which one instance serves, in memory
//! (a GCRA from `governor`), sparing the single writer a write per attempt. Both allow `n`
//! attempts at once, then one every `60 / n` seconds.

use std::num::NonZeroU32;
use std::sync::Arc;

use actix_web::http::header::RETRY_AFTER;
use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
use futures_util::future::LocalBoxFuture;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use sha2::{Digest, Sha256};

use crate::db::{self, Engine, Pool};
use crate::error::{AppError, Status};
use crate::models::rate_limit_counters;

struct Limiters {
    per_ip: DefaultKeyedRateLimiter<String>,
    per_account: DefaultKeyedRateLimiter<String>,
}

enum Store {
    Memory(Box<Limiters>),
    Shared(Pool),
}

pub struct RateLimits {
    per_ip: u32,
    per_account: u32,
    store: Store,
}

fn per_minute(n: u32) -> Quota {
    Quota::per_minute(NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN))
}

fn limited(secs: u64) -> AppError {
    AppError::new(
        Status::TooManyRequests,
        "rate_limited",
        format!("Too many attempts; retry in {secs} s."),
    )
    .with_header(RETRY_AFTER, secs.max(1).to_string())
}

fn check(limiter: &DefaultKeyedRateLimiter<String>, key: String) -> Result<(), AppError> {
    limiter.check_key(&key).map_err(|not_until| {
        let wait = not_until.wait_time_from(DefaultClock::default().now());
        limited(wait.as_secs() + u64::from(wait.subsec_nanos() > 0))
    })
}

impl RateLimits {
    /// Counts in memory (one instance).
    pub fn new(per_ip: u32, per_account: u32) -> Arc<Self> {
        Arc::new(Self {
            per_ip,
            per_account,
            store: Store::Memory(Box::new(Limiters {
                per_ip: DefaultKeyedRateLimiter::keyed(per_minute(per_ip)),
                per_account: DefaultKeyedRateLimiter::keyed(per_minute(per_account)),
            })),
        })
    }

    /// Counts where the engine calls for: shared in the database on PostgreSQL.
    pub fn for_engine(engine: Engine, pool: Pool, per_ip: u32, per_account: u32) -> Arc<Self> {
        match engine {
            Engine::Sqlite => Self::new(per_ip, per_account),
            Engine::Postgres => Arc::new(Self {
                per_ip,
                per_account,
                store: Store::Shared(pool),
            }),
        }
    }

    /// Whether instances on one database share the counts.
    pub fn is_shared(&self) -> bool {
        matches!(self.store, Store::Shared(_))
    }

    /// A GCRA like the in-memory one: `quota` attempts at once, then one every `60 / quota` s.
    async fn shared_hit(pool: &Pool, key: String, quota: u32) -> Result<(), AppError> {
        // The key is hashed: addresses and emails are not stored for counting.
        let key = hex::encode(Sha256::digest(key.as_bytes()));
        let interval = 60_000_000 / i64::from(quota.max(1));
        let burst = 60_000_000 - interval;
        let now = db::now();
        let refused = db::run(pool, move |conn| {
            Ok(rate_limit_counters::attempt(
                conn, &key, now, interval, burst,
            )?)
        })
        .await?;
        match refused {
            None => Ok(()),
            Some(until) => {
                let wait = (until - now).num_milliseconds().max(0) as u64;
                Err(limited(wait.div_ceil(1000)))
            }
        }
    }

    /// One attempt on the account `email` (normalised).
    pub async fn account(&self, email: &str) -> Result<(), AppError> {
        match &self.store {
            Store::Memory(l) => check(&l.per_account, email.to_string()),
            Store::Shared(pool) => {
                Self::shared_hit(pool, format!("account:{email}"), self.per_account).await
            }
        }
    }

    /// One request from the address `ip`.
    pub async fn ip(&self, ip: &str) -> Result<(), AppError> {
        match &self.store {
            Store::Memory(l) => check(&l.per_ip, ip.to_string()),
            Store::Shared(pool) => Self::shared_hit(pool, format!("ip:{ip}"), self.per_ip).await,
        }
    }

    /// Drops idle keys (in memory) or past windows (in the database), so storage stays bounded.
    pub async fn shrink(&self) {
        match &self.store {
            Store::Memory(l) => {
                l.per_ip.retain_recent();
                l.per_account.retain_recent();
                l.per_ip.shrink_to_fit();
                l.per_account.shrink_to_fit();
            }
            Store::Shared(pool) => {
                let now = db::now();
                let swept =
                    db::run(pool, move |conn| Ok(rate_limit_counters::sweep(conn, now)?)).await;
                if let Err(e) = swept {
                    tracing::warn!("sweeping rate-limit counters: {e}");
                }
            }
        }
    }
}

/// Extractor that counts one request of the caller's IP; put it on every sign-in route.
pub struct IpRateLimited;

impl FromRequest for IpRateLimited {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let limits = req.app_data::<web::Data<Arc<RateLimits>>>().cloned();
        let ip = crate::http::meta::client_ip(req).unwrap_or_default();
        Box::pin(async move {
            match limits {
                Some(limits) => limits.ip(&ip).await.map(|_| IpRateLimited),
                None => Ok(IpRateLimited),
            }
        })
    }
}
