//! An organisation's billing settings as they apply: the stored row, or the defaults (no PDF
//! attached, the language of the organisation's country, no extra address).

use crate::db::{self, DbConnection};
use crate::domain::Language;
use crate::error::AppError;
use crate::models::billing_settings::{self, BillingSettings};
use crate::models::organizations;

/// The default document language of an organisation in `country` (ISO 3166 alpha-2): French
/// for Switzerland (our home) and the French-speaking countries, German, Italian or Spanish
/// where that is the language of the country, English elsewhere.
pub fn default_language(country: &str) -> Language {
    match country {
        "CH" | "FR" | "BE" | "LU" | "MC" => Language::Fr,
        "DE" | "AT" | "LI" => Language::De,
        "IT" | "SM" | "VA" => Language::It,
        "ES" | "AD" => Language::Es,
        _ => Language::En,
    }
}

pub fn parse_language(code: &str) -> Language {
    match code {
        "fr" => Language::Fr,
        "de" => Language::De,
        "it" => Language::It,
        "es" => Language::Es,
        _ => Language::En,
    }
}

/// The settings that apply to `org_id` now.
pub fn effective(conn: &mut DbConnection, org_id: &str) -> Result<BillingSettings, AppError> {
    if let Some(stored) = billing_settings::find(conn, org_id)? {
        return Ok(stored);
    }
    let org = organizations::find(conn, org_id)?
        .ok_or_else(|| AppError::not_found("No such organisation."))?;
    Ok(BillingSettings {
        organization_id: org.id,
        attach_invoice_pdf: false,
        invoice_language: default_language(&org.country).code().to_string(),
        invoice_email: None,
        updated_at: db::now(),
    })
}
