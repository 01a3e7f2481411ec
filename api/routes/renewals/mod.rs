//! Renewals: `/v1/orgs/{org_id}/renewals`.

pub mod set_auto_renewals;

use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(set_auto_renewals::set_auto_renewals);
}
