use actix_web::{HttpResponse, get};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::responses::Common;

#[derive(Serialize, ToSchema)]
pub struct Health {
    /// Always `ok` when the process answers.
    #[schema(example = "ok")]
    pub status: &'static str,
}

/// Liveness: the process is up and answers HTTP. Does not touch the database.
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
    HttpResponse::Ok().json(Health { status: "ok" })
}
