//! Rate limits on the sign-in routes, per IP and per account, kept in memory per instance
//! (a GCRA from `governor`). Beyond the limit: 429 `rate_limited` with `Retry-After`.

use std::num::NonZeroU32;
use std::sync::Arc;

use crate::error::Status;
use actix_web::http::header::RETRY_AFTER;
use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

use crate::error::AppError;

pub struct RateLimits {
    per_ip: DefaultKeyedRateLimiter<String>,
    per_account: DefaultKeyedRateLimiter<String>,
}

fn per_minute(n: u32) -> Quota {
    Quota::per_minute(NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN))
}

fn check(limiter: &DefaultKeyedRateLimiter<String>, key: String) -> Result<(), AppError> {
    limiter.check_key(&key).map_err(|not_until| {
        let wait = not_until.wait_time_from(DefaultClock::default().now());
        let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        AppError::new(
            Status::TooManyRequests,
            "rate_limited",
            format!("Too many attempts; retry in {secs} s."),
        )
        .with_header(RETRY_AFTER, secs.max(1).to_string())
    })
}

impl RateLimits {
    pub fn new(per_ip: u32, per_account: u32) -> Arc<Self> {
        Arc::new(Self {
            per_ip: DefaultKeyedRateLimiter::keyed(per_minute(per_ip)),
            per_account: DefaultKeyedRateLimiter::keyed(per_minute(per_account)),
        })
    }

    /// One attempt on the account `email` (normalised).
    pub fn account(&self, email: &str) -> Result<(), AppError> {
        check(&self.per_account, email.to_string())
    }

    /// Drops idle keys so memory stays bounded.
    pub fn shrink(&self) {
        self.per_ip.retain_recent();
        self.per_account.retain_recent();
        self.per_ip.shrink_to_fit();
        self.per_account.shrink_to_fit();
    }
}

/// Extractor that counts one request of the caller's IP; put it on every sign-in route.
pub struct IpRateLimited;

impl FromRequest for IpRateLimited {
    type Error = AppError;
    type Future = std::future::Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let result = match req.app_data::<web::Data<Arc<RateLimits>>>() {
            Some(limits) => {
                let ip = crate::http::meta::client_ip(req).unwrap_or_default();
                check(&limits.per_ip, ip).map(|_| IpRateLimited)
            }
            None => Ok(IpRateLimited),
        };
        std::future::ready(result)
    }
}
