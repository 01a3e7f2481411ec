//! Feedback and suggestions per service and language (R53).

pub mod create_feedback;
pub mod list_feedback_services;

use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_feedback_services::list_feedback_services)
        .service(create_feedback::create_feedback);
}
