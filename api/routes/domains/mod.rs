//! The organisation's domains: `/v1/orgs/{org_id}/domains`.

pub mod cancel_transfer_out;
pub mod get_transfer_out;
pub mod reject_transfer_out;
pub mod request_transfer_out;

use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(request_transfer_out::request_transfer_out)
        .service(get_transfer_out::get_transfer_out)
        .service(cancel_transfer_out::cancel_transfer_out)
        .service(reject_transfer_out::reject_transfer_out);
}
