//! Passwords: changing one's own, and the forgotten-password reset (R5).

pub mod change_password;
pub mod request_password_reset;
pub mod reset_password;

use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(change_password::change_password)
        .service(request_password_reset::request_password_reset)
        .service(reset_password::reset_password);
}
