//! Deleting the caller's own account: `DELETE /v1/me` (R9).

pub mod delete_me;

use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(delete_me::delete_me);
}
