use actix_web::{HttpResponse, get};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::responses::Common;

/// Always `ok` when the process answers.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Liveness {
    Ok,
}

#[derive(Serialize, ToSchema)]
pub struct Health {
    pub status: Liveness,
}

/// Liveness: the process is up and answers HTTP
///
/// Does not touch the database.
#[utoipa::path(
    operation_id = "get_health",
    tag = "operations",
    responses(
        (status = 200, description = "The process is alive", body = Health, example = json!({"status": "ok"})),
        Common,
    )
)]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health {
        status: Liveness::Ok,
    })
}
