//! Invoices: `/v1/orgs/{org_id}/invoices`.

pub mod create_invoice_export;
pub mod export_invoices_csv;
pub mod get_invoice;
pub mod get_invoice_pdf;
pub mod list_invoices;
pub mod pay_invoice;

use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    // `export.csv` before `{invoice_id}`: the first matching GET route answers.
    cfg.service(list_invoices::list_invoices)
        .service(export_invoices_csv::export_invoices_csv)
        .service(create_invoice_export::create_invoice_export)
        .service(get_invoice::get_invoice)
        .service(get_invoice_pdf::get_invoice_pdf)
        .service(pay_invoice::pay_invoice);
}
