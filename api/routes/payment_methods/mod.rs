//! Payment profiles: `/v1/orgs/{org_id}/payment-methods`.

pub mod create_payment_method;
pub mod delete_payment_method;
pub mod list_payment_methods;
pub mod set_default_payment_method;

use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_payment_methods::list_payment_methods)
        .service(create_payment_method::create_payment_method)
        .service(delete_payment_method::delete_payment_method)
        .service(set_default_payment_method::set_default_payment_method);
}
