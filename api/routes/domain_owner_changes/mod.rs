//! Changes of a domain's owner confirmed by mail: `/v1/domain-owner-changes` (issue 12).

pub mod confirm_domain_owner_change;

use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(confirm_domain_owner_change::confirm_domain_owner_change);
}
