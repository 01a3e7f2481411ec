//! The organisation's domains: `/v1/orgs/{org_id}/domains` (issue 12).

pub mod get_domain;
pub mod get_domain_contacts;
pub mod list_domains;
pub mod set_domain_lock;
pub mod set_domain_privacy;
pub mod update_domain_contacts;

use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_domains::list_domains)
        .service(get_domain::get_domain)
        .service(get_domain_contacts::get_domain_contacts)
        .service(update_domain_contacts::update_domain_contacts)
        .service(set_domain_privacy::set_domain_privacy)
        .service(set_domain_lock::set_domain_lock);
}
