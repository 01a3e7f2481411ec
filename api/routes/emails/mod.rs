//! The login address (R4) and the recovery address (R6) of the caller's account.

pub mod change_login_email;
pub mod confirm_login_email;
pub mod confirm_recovery_email;
pub mod delete_pending_recovery_email;
pub mod resend_recovery_email;
pub mod set_recovery_email;

use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(change_login_email::change_login_email)
        .service(confirm_login_email::confirm_login_email)
        .service(set_recovery_email::set_recovery_email)
        .service(confirm_recovery_email::confirm_recovery_email)
        .service(resend_recovery_email::resend_recovery_email)
        .service(delete_pending_recovery_email::delete_pending_recovery_email);
}
