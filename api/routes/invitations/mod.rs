//! Invitations to join an organisation: `/v1/orgs/{org_id}/invitations` and accepting one.

pub mod accept_invitation;
pub mod create_invitation;
pub mod list_invitations;
pub mod revoke_invitation;

use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create_invitation::create_invitation)
        .service(list_invitations::list_invitations)
        .service(revoke_invitation::revoke_invitation)
        .service(accept_invitation::accept_invitation);
}
