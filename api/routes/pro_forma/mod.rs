//! Pro forma invoices: `/v1/orgs/{org_id}/pro-forma-invoices`.

pub mod create_pro_forma;
pub mod get_pro_forma;
pub mod get_pro_forma_pdf;

use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(get_pro_forma::get_pro_forma);
    cfg.service(create_pro_forma::create_pro_forma);
    cfg.service(get_pro_forma_pdf::get_pro_forma_pdf);
}
