//! Two-factor authentication: enrolment, recovery codes and turning it off under
//! `/v1/me/two-factor`, the second login step and re-authentication under `/v1/auth`.

pub mod confirm_totp_enrolment;
pub mod disable_two_factor;
pub mod login_mfa;
pub mod reauthenticate;
pub mod regenerate_recovery_codes;
pub mod start_totp_enrolment;

use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(start_totp_enrolment::start_totp_enrolment)
        .service(confirm_totp_enrolment::confirm_totp_enrolment)
        .service(regenerate_recovery_codes::regenerate_recovery_codes)
        .service(disable_two_factor::disable_two_factor)
        .service(login_mfa::login_mfa)
        .service(reauthenticate::reauthenticate);
}
