//! The organisation's products: `/v1/orgs/{org_id}/products`.

pub mod get_product;
pub mod list_products;
pub mod set_auto_renewal;

use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_products::list_products)
        .service(get_product::get_product)
        .service(set_auto_renewal::set_auto_renewal);
}
