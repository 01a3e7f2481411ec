//! Signing in and out: `/v1/auth/…`.

pub mod login;
pub mod logout;
pub mod refresh;

use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(login::login)
        .service(refresh::refresh)
        .service(logout::logout);
}
