//! The caller's own account: `/v1/me`.

pub mod get_me;
pub mod update_me;

use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(get_me::get_me).service(update_me::update_me);
}
