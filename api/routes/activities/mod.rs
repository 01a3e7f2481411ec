//! The caller's activity log: `GET /v1/me/activities` (R13).

pub mod list_my_activities;

use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_my_activities::list_my_activities);
}
