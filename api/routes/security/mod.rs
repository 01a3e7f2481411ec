//! Sign-in protection: login alerts and the lock threshold (`/v1/me/security-settings`), and
//! unlocking a locked account (`/v1/auth/unlock…`).

pub mod get_security_settings;
pub mod request_unlock_link;
pub mod unlock_account;
pub mod update_security_settings;

use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(get_security_settings::get_security_settings)
        .service(update_security_settings::update_security_settings)
        .service(unlock_account::unlock_account)
        .service(request_unlock_link::request_unlock_link);
}
