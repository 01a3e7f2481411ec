//! Domains (issue 12): availability at `/v1/domains/availability`, and the organisation's
//! domains under `/v1/orgs/{org_id}/domains`.

pub mod check_domain_availability;

use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(check_domain_availability::check_domain_availability);
}
