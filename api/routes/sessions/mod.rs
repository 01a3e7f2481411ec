//! The connection log: the caller's signed-in devices, `/v1/me/sessions…`.

pub mod end_other_sessions;
pub mod end_session;
pub mod list_sessions;

use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_sessions::list_sessions)
        .service(end_other_sessions::end_other_sessions)
        .service(end_session::end_session);
}
