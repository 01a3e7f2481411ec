//! The organisation's products: `/v1/orgs/{org_id}/products`.

pub mod get_product;
pub mod list_products;
pub mod move_product;
pub mod request_cancellation;
pub mod set_auto_renewal;
pub mod update_product;
pub mod withdraw_cancellation;
pub mod withdraw_product_change;

use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_products::list_products)
        .service(get_product::get_product)
        .service(request_cancellation::request_cancellation)
        .service(withdraw_cancellation::withdraw_cancellation)
        .service(update_product::update_product)
        .service(withdraw_product_change::withdraw_product_change)
        .service(move_product::move_product)
        .service(set_auto_renewal::set_auto_renewal);
}
