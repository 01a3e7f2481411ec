//! Sign-up and email verification: `/v1/users…` (no authentication).

pub mod create_user;
pub mod resend_verification;
pub mod verify_email;

use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create_user::create_user)
        .service(verify_email::verify_email)
        .service(resend_verification::resend_verification);
}
