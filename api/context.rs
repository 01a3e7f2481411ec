//! What every part of the process shares — routes, services, jobs and commands alike: the
//! database pool, configuration, signing keys, mailer, rate limits, catalogue and the adapters
//! (payment gateway) chosen from configuration at start. It sits below the HTTP layer, so
//! services and jobs can take it without importing `startup` or `routes`.

use std::sync::Arc;

use crate::auth::keys::KeySet;
use crate::auth::ratelimit::RateLimits;
use crate::config::Config;
use crate::db::{self, Pool};
use crate::jobs::{self, JobContext, Runner};
use crate::mail::Mailer;
use crate::metrics::Metrics;

/// What every part of the process shares.
#[derive(Clone)]
pub struct Services {
    pub config: Arc<Config>,
    pub pool: Pool,
    pub keys: KeySet,
    pub metrics: Arc<Metrics>,
    pub mailer: Arc<Mailer>,
    pub limits: Arc<RateLimits>,
    pub catalog: Arc<crate::catalog::Catalog>,
    pub gateway: Arc<dyn crate::gateway::PaymentGateway>,
    pub registry: Arc<dyn crate::registry::Registry>,
}

impl Services {
    /// Connects, migrates, loads the signing keys.
    pub async fn start(config: Config) -> anyhow::Result<Self> {
        let config = Arc::new(config);
        let pool = db::build_pool(&config.database_url, config.db_pool_size)
            .map_err(|e| anyhow::anyhow!("cannot connect to the database: {e}"))?;
        let configured_keys = config.jwt_keys.clone();
        let pool2 = pool.clone();
        let (applied, keys) = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
            let mut conn = pool2.get()?;
            // One starting instance at a time migrates and makes the first signing key.
            db::startup_lock(&mut conn, |c| -> anyhow::Result<_> {
                let applied =
                    db::run_migrations(c).map_err(|e| anyhow::anyhow!("migrations failed: {e}"))?;
                let keys = KeySet::load(configured_keys.as_ref(), c)?;
                Ok((applied, keys))
            })
            .map_err(|e| anyhow::anyhow!(e))?
        })
        .await??;
        if applied > 0 {
            tracing::info!(applied, "database migrations applied");
        }
        tracing::info!("{}", keys.describe());
        let mailer = Mailer::from_config(&config).map_err(|e| anyhow::anyhow!(e))?;
        let limits = RateLimits::for_engine(
            config.database_url.engine,
            pool.clone(),
            config.auth_rate_per_ip,
            config.auth_rate_per_account,
        );
        let catalog = crate::catalog::Catalog::load(config.catalog_file.as_deref())
            .map_err(|e| anyhow::anyhow!("the catalogue is not valid: {e}"))?;
        let gateway = crate::gateway::from_config(&config, pool.clone());
        let registry =
            crate::registry::from_config(&config, pool.clone(), catalog.extensions.clone());
        let catalog = Arc::new(catalog);
        // Webhook payloads are rendered inside the changes' transactions, far from `Services`.
        crate::services::outgoing_webhooks::use_catalog(catalog.clone());
        Ok(Self {
            config,
            pool,
            keys,
            metrics: Arc::new(Metrics::new()),
            mailer: Arc::new(mailer),
            limits,
            catalog,
            gateway,
            registry,
        })
    }

    pub fn runner(&self) -> Runner {
        Runner::new(JobContext::new(self.clone()), jobs::registry())
    }
}
