//! Organisations: `/v1/orgs`, `/v1/orgs/{org_id}` and the caller's list, the security policy,
//! deletion, leaving, and the organisation's activity log. Every route under
//! `/v1/orgs/{org_id}` declares what it needs as `x-leman-permission`.

pub mod create_organization;
pub mod delete_organization;
pub mod get_organization;
pub mod get_organization_deletion_check;
pub mod get_security_policy;
pub mod leave_organization;
pub mod list_my_organizations;
pub mod list_organization_activities;
pub mod update_organization;
pub mod update_security_policy;
pub mod verify_organization_activities;

use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create_organization::create_organization)
        .service(list_my_organizations::list_my_organizations)
        .service(get_organization::get_organization)
        .service(update_organization::update_organization)
        .service(delete_organization::delete_organization)
        .service(get_organization_deletion_check::get_organization_deletion_check)
        .service(get_security_policy::get_security_policy)
        .service(update_security_policy::update_security_policy)
        .service(leave_organization::leave_organization)
        .service(list_organization_activities::list_organization_activities)
        .service(verify_organization_activities::verify_organization_activities);
}
