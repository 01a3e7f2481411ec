//! Builds the application from its configuration and runs it: the HTTP server and, unless turned
//! off, the job runner, both stopped gracefully on SIGTERM/SIGINT.

use std::net::TcpListener;

use actix_web::dev::{Server, ServerHandle};
use actix_web::http::header;
use actix_web::{App, HttpResponse, HttpServer, web};
use tokio::sync::watch;
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

use crate::config::Config;
use crate::http::fallback::{self, RouteTable};
use crate::routes::meta::get_openapi::SpecJson;
use crate::telemetry::Telemetry;

pub use crate::context::Services;

pub struct Application {
    port: u16,
    server: Server,
    services: Services,
}

impl Application {
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(config.bind)
            .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", config.bind))?;
        let services = Services::start(config).await?;
        Self::with_listener(services, listener)
    }

    pub fn with_listener(services: Services, listener: TcpListener) -> anyhow::Result<Self> {
        let port = listener.local_addr()?.port();
        let api = crate::openapi::build();
        let routes = web::Data::new(RouteTable::from_openapi(&api));
        let spec = web::Data::new(SpecJson(crate::openapi::to_json(&api)));
        let pool = web::Data::new(services.pool.clone());
        let keys = web::Data::new(services.keys.clone());
        let config = web::Data::from(services.config.clone());
        let metrics = web::Data::new(services.metrics.clone());
        let limits = web::Data::new(services.limits.clone());
        let shared = web::Data::new(services.clone());
        let origins = services.config.cors_origins.clone();
        let telemetry_metrics = services.metrics.clone();
        let mut server = HttpServer::new(move || {
            App::new()
                .into_utoipa_app()
                .app_data(routes.clone())
                .app_data(spec.clone())
                .app_data(pool.clone())
                .app_data(keys.clone())
                .app_data(config.clone())
                .app_data(metrics.clone())
                .app_data(limits.clone())
                .app_data(shared.clone())
                .app_data(web::PayloadConfig::new(crate::http::MAX_BODY_BYTES))
                .configure(crate::routes::configure)
                .into_app()
                .service(
                    SwaggerUi::new("/docs/{_:.*}")
                        .config(utoipa_swagger_ui::Config::new(["/v1/openapi.json"])),
                )
                .route(
                    "/docs",
                    web::get().to(|| async {
                        HttpResponse::PermanentRedirect()
                            .insert_header((header::LOCATION, "/docs/"))
                            .finish()
                    }),
                )
                .default_service(web::to(fallback::not_matched))
                .wrap(crate::http::cors::OriginCors(crate::http::cors::policy(
                    &origins,
                )))
                .wrap(Telemetry {
                    metrics: telemetry_metrics.clone(),
                })
        })
        .shutdown_timeout(services.config.shutdown_timeout.as_secs())
        // Signals are ours: actix stops at once on SIGINT, we finish in-flight requests on both.
        .disable_signals()
        .listen(listener)?;
        if services.config.http_workers > 0 {
            server = server.workers(services.config.http_workers);
        }
        Ok(Self {
            port,
            server: server.run(),
            services,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn services(&self) -> &Services {
        &self.services
    }

    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until stopped (by one of `signals`, when given, or through `handle()`), then
    /// stops the job runner after its current jobs.
    pub async fn run_until_stopped(self, signals: Option<Signals>) -> anyhow::Result<()> {
        let (stop_jobs, jobs_stopped) = watch::channel(false);
        let runner = self
            .services
            .config
            .jobs_in_serve
            .then(|| tokio::spawn(self.services.runner().run(jobs_stopped)));
        // Rate-limit state of clients not seen for a while is dropped, so memory stays bounded.
        let limits = self.services.limits.clone();
        let sweeper = tokio::spawn(async move {
            let mut every = tokio::time::interval(std::time::Duration::from_secs(60));
            loop {
                every.tick().await;
                limits.shrink().await;
            }
        });
        if let Some(signals) = signals {
            let handle = self.server.handle();
            tokio::spawn(async move {
                signals.recv().await;
                tracing::info!("shutting down: finishing in-flight requests");
                handle.stop(true).await;
            });
        }
        self.server.await?;
        sweeper.abort();
        let _ = stop_jobs.send(true);
        if let Some(runner) = runner {
            let _ = runner.await;
        }
        tracing::info!("stopped");
        Ok(())
    }
}

/// SIGTERM and SIGINT, caught from the moment `install` runs (before the port opens, so a
/// signal can never find the process without its handler).
pub struct Signals {
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
}

impl Signals {
    pub fn install() -> std::io::Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Self {
                term: signal(SignalKind::terminate())?,
                int: signal(SignalKind::interrupt())?,
            })
        }
        #[cfg(not(unix))]
        {
            Ok(Self {})
        }
    }

    pub async fn recv(mut self) {
        #[cfg(unix)]
        tokio::select! {
            _ = self.term.recv() => {}
            _ = self.int.recv() => {}
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
