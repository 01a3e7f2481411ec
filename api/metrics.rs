//! Prometheus metrics. Counters are updated where things happen; the gauges that describe state
//! (pool use, queue depth, undelivered mail) are read at scrape time.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// The HTTP labels are `&'static str`: counting a request allocates nothing. Methods come from a
/// closed set (`telemetry::method_label`), routes from the registered patterns (`route_label`).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub method: &'static str,
    pub route: &'static str,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub method: &'static str,
    pub route: &'static str,
}

static ROUTES: std::sync::LazyLock<std::sync::RwLock<std::collections::HashSet<&'static str>>> =
    std::sync::LazyLock::new(Default::default);

/// A route pattern as a label, kept once for the life of the process. The set is bounded: the
/// patterns the application registered, plus the middleware's own (`unmatched`, `failed`,
/// `panicked`); a path never becomes a label.
pub fn route_label(pattern: &str) -> &'static str {
    if let Some(known) = ROUTES.read().ok().and_then(|r| r.get(pattern).copied()) {
        return known;
    }
    let mut routes = ROUTES.write().unwrap_or_else(|e| e.into_inner());
    match routes.get(pattern) {
        Some(known) => known,
        None => {
            let leaked: &'static str = Box::leak(pattern.to_owned().into_boxed_str());
            routes.insert(leaked);
            leaked
        }
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KindLabels {
    pub kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StateLabels {
    pub state: String,
}

pub struct Metrics {
    registry: Registry,
    pub http_requests: Family<RequestLabels, Counter>,
    pub http_duration: Family<RouteLabels, Histogram>,
    pub db_pool: Family<StateLabels, Gauge>,
    pub jobs_queued: Family<StateLabels, Gauge>,
    pub jobs_succeeded: Family<KindLabels, Counter>,
    pub jobs_failed: Family<KindLabels, Counter>,
    pub jobs_dead: Family<KindLabels, Counter>,
    pub mails_sent: Counter,
    pub mail_delivery_failures: Counter,
    pub mails_undelivered: Family<StateLabels, Gauge>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("leman");
        let http_requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests by route and status",
            http_requests.clone(),
        );
        let http_duration = Family::<RouteLabels, Histogram>::new_with_constructor(|| {
            Histogram::new([
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
            ])
        });
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency",
            http_duration.clone(),
        );
        let db_pool = Family::<StateLabels, Gauge>::default();
        registry.register(
            "db_pool_connections",
            "Database pool connections by state",
            db_pool.clone(),
        );
        let jobs_queued = Family::<StateLabels, Gauge>::default();
        registry.register(
            "jobs",
            "Jobs in the queue by state (pending includes scheduled)",
            jobs_queued.clone(),
        );
        let jobs_succeeded = Family::<KindLabels, Counter>::default();
        registry.register("jobs_succeeded", "Jobs completed", jobs_succeeded.clone());
        let jobs_failed = Family::<KindLabels, Counter>::default();
        registry.register(
            "jobs_failed",
            "Job attempts that failed (retried later)",
            jobs_failed.clone(),
        );
        let jobs_dead = Family::<KindLabels, Counter>::default();
        registry.register(
            "jobs_dead",
            "Jobs given up after their last attempt",
            jobs_dead.clone(),
        );
        let mails_sent = Counter::default();
        registry.register(
            "mails_sent",
            "Mails handed to the transport",
            mails_sent.clone(),
        );
        let mail_delivery_failures = Counter::default();
        registry.register(
            "mail_delivery_failures",
            "Mail delivery attempts that failed",
            mail_delivery_failures.clone(),
        );
        let mails_undelivered = Family::<StateLabels, Gauge>::default();
        registry.register(
            "mails_undelivered",
            "Mails not delivered, pending or failed",
            mails_undelivered.clone(),
        );
        Self {
            registry,
            http_requests,
            http_duration,
            db_pool,
            jobs_queued,
            jobs_succeeded,
            jobs_failed,
            jobs_dead,
            mails_sent,
            mail_delivery_failures,
            mails_undelivered,
        }
    }

    pub fn state(&self, family: &Family<StateLabels, Gauge>, state: &str, value: i64) {
        family
            .get_or_create(&StateLabels {
                state: state.to_string(),
            })
            .set(value);
    }

    pub fn kind(family: &Family<KindLabels, Counter>, kind: &str) {
        family
            .get_or_create(&KindLabels {
                kind: kind.to_string(),
            })
            .inc();
    }

    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}
