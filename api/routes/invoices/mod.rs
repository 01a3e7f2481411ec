//! Invoices: `/v1/orgs/{org_id}/invoices`.

pub mod get_invoice;
pub mod get_invoice_pdf;
pub mod list_invoices;
pub mod pay_invoice;

use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_invoices::list_invoices)
        .service(get_invoice::get_invoice)
        .service(get_invoice_pdf::get_invoice_pdf)
        .service(pay_invoice::pay_invoice);
}
