//! Confirming a cancellation through its mailed link: `/v1/cancellations/confirm`.

pub mod confirm_cancellation;

use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(confirm_cancellation::confirm_cancellation);
}
