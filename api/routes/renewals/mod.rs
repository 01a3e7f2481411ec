//! Renewals: `/v1/orgs/{org_id}/renewals`.

pub mod list_renewals;
pub mod renew_products;
pub mod set_auto_renewals;

use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_renewals::list_renewals)
        .service(renew_products::renew_products)
        .service(set_auto_renewals::set_auto_renewals);
}
