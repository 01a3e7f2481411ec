//! Members of an organisation: `/v1/orgs/{org_id}/members`.

pub mod list_members;
pub mod remove_member;
pub mod unlock_member;
pub mod update_member;

use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_members::list_members)
        .service(update_member::update_member)
        .service(remove_member::remove_member)
        .service(unlock_member::unlock_member);
}
