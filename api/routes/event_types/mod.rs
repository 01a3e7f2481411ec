//! The catalogue of webhook event types: `GET /v1/event-types`.

pub mod list_event_types;

use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_event_types::list_event_types);
}
