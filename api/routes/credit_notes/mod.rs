//! Credit notes: `/v1/orgs/{org_id}/credit-notes`, one per refund.

pub mod get_credit_note;
pub mod get_credit_note_pdf;
pub mod list_credit_notes;

use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_credit_notes::list_credit_notes)
        .service(get_credit_note_pdf::get_credit_note_pdf)
        .service(get_credit_note::get_credit_note);
}
