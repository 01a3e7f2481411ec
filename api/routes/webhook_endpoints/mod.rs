//! Outgoing webhook endpoints: `/v1/orgs/{org_id}/webhook-endpoints` (admins and legal
//! representatives), their secret rotation and delivery log.

pub mod create_webhook_endpoint;
pub mod delete_webhook_endpoint;
pub mod get_webhook_endpoint;
pub mod list_webhook_deliveries;
pub mod list_webhook_endpoints;
pub mod retry_webhook_delivery;
pub mod rotate_webhook_endpoint_secret;
pub mod update_webhook_endpoint;

use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_webhook_endpoints::list_webhook_endpoints)
        .service(create_webhook_endpoint::create_webhook_endpoint)
        .service(get_webhook_endpoint::get_webhook_endpoint)
        .service(update_webhook_endpoint::update_webhook_endpoint)
        .service(delete_webhook_endpoint::delete_webhook_endpoint)
        .service(rotate_webhook_endpoint_secret::rotate_webhook_endpoint_secret)
        .service(list_webhook_deliveries::list_webhook_deliveries)
        .service(retry_webhook_delivery::retry_webhook_delivery);
}
