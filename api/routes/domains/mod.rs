//! Domains (issue 12): availability at `/v1/domains/availability`, and the organisation's
//! domains under `/v1/orgs/{org_id}/domains`.

pub mod cancel_transfer_out;
pub mod check_domain_availability;
pub mod get_domain;
pub mod get_domain_contacts;
pub mod get_transfer_out;
pub mod list_domains;
pub mod reject_transfer_out;
pub mod request_transfer_out;
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
        .service(set_domain_lock::set_domain_lock)
        .service(request_transfer_out::request_transfer_out)
        .service(get_transfer_out::get_transfer_out)
        .service(cancel_transfer_out::cancel_transfer_out)
        .service(reject_transfer_out::reject_transfer_out)
        .service(check_domain_availability::check_domain_availability);
}
