//! The payment provider's webhook: `/v1/payment-provider/webhooks`.

pub mod receive_payment_webhook;

use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(receive_payment_webhook::receive_payment_webhook);
}
