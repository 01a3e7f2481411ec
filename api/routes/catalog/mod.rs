//! The public catalogue: `/v1/catalog/offers`.

pub mod list_offers;

use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_offers::list_offers);
}
