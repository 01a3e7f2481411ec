//! Orders: `/v1/orgs/{org_id}/orders`.

pub mod create_order;
pub mod get_order;
pub mod list_orders;
pub mod pay_order;

use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create_order::create_order)
        .service(list_orders::list_orders)
        .service(get_order::get_order)
        .service(pay_order::pay_order);
}
