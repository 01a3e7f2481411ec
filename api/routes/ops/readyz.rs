use std::time::Duration;

use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::config::Config;
use crate::db::{self, Engine, Pool};
use crate::error::AppError;
use crate::error::responses::{Common, Unavailable};

/// `ready` while the database answers and every migration is applied (otherwise the answer is a
/// 503 problem).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReadinessStatus {
    Ready,
}

#[derive(Serialize, ToSchema)]
pub struct Readiness {
    pub status: ReadinessStatus,
    /// `sqlite` or `postgres`.
    #[schema(example = "sqlite")]
    pub database: &'static str,
}

/// Readiness: the database answers and every migration is applied
///
/// A load balancer sends traffic only while this is 200.
#[utoipa::path(
    operation_id = "get_readiness",
    tag = "operations",
    responses(
        (status = 200, description = "Ready to serve", body = Readiness, example = json!({"status": "ready", "database": "sqlite"})),
        Unavailable,
        Common,
    )
)]
#[get("/readyz")]
pub async fn readyz(
    pool: web::Data<Pool>,
    config: web::Data<Config>,
) -> Result<HttpResponse, AppError> {
    let pool = pool.get_ref().clone();
    let url = config.database_url.clone();
    let checked = web::block(move || -> Result<Engine, String> {
        // Open connections outlive a deleted SQLite file (an unmounted volume): look at the path.
        if url.engine == Engine::Sqlite && !std::path::Path::new(&url.target).is_file() {
            return Err(format!("the database file {} is gone", url.target));
        }
        // Bounded: 2 s, or at once while the pool's last attempt to connect failed (a load
        // balancer's probe must not hang on a database that went away).
        let wait = if pool.is_down() {
            db::CHECKOUT_TIMEOUT_WHEN_DOWN
        } else {
            Duration::from_secs(2)
        };
        let mut conn = pool.get_timeout(wait).map_err(|e| e.to_string())?;
        if !db::migrations_current(&mut conn)? {
            return Err("migrations are pending: run `leman migrate`".into());
        }
        Ok(conn.engine())
    })
    .await
    .map_err(|e| e.to_string())
    .and_then(|r| r);
    match checked {
        Ok(engine) => Ok(HttpResponse::Ok().json(Readiness {
            status: ReadinessStatus::Ready,
            database: match engine {
                Engine::Sqlite => "sqlite",
                Engine::Postgres => "postgres",
            },
        })),
        Err(cause) => {
            tracing::warn!("not ready: {cause}");
            let detail = if cause.contains("migrations") {
                "The database schema is not current."
            } else {
                "The database is not reachable."
            };
            Err(AppError::unavailable("not_ready", detail))
        }
    }
}
