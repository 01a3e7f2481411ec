//! The caller's activity log: `GET /v1/me/activities` (R13); the kinds of activity:
//! `GET /v1/activity-kinds`.

pub mod list_activity_kinds;
pub mod list_my_activities;

use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_my_activities::list_my_activities)
        .service(list_activity_kinds::list_activity_kinds);
}
