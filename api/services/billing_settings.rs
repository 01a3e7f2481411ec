//! An organisation's billing settings as they apply: the stored row, or the defaults (no PDF
//! attached, the language of the organisation's country, no extra address); reading and
//! replacing them (admins and legal representatives; saved at once, R27); and what they do to
//! mails, each in one place: `invoice_attachments` (the invoice PDF on receipts and renewal
//! mails when `attach_invoice_pdf` is on) and `send_invoice_copy` (every paid invoice also to
//! `invoice_email`, the PDF always attached).

use crate::config::Config;
use crate::db::{self, DbConnection, Pool};
use crate::domain::actor::Origin;
use crate::domain::documents::DocumentKind;
use crate::domain::money::Money;
use crate::domain::orgs::Currency;
use crate::domain::{Checks, Email, Language};
use crate::error::AppError;
use crate::mail::{self, Attachment};
use crate::models::billing_settings::{self, BillingSettings};
use crate::models::invoices::Invoice;
use crate::models::organizations;
use crate::services::activity::{self, Event};
use crate::services::orgs::OrgRequest;

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
    let org = organizations::find_any(conn, org_id)?
        .ok_or_else(|| AppError::not_found("No such organisation."))?;
    Ok(BillingSettings {
        organization_id: org.id,
        attach_invoice_pdf: false,
        invoice_language: default_language(&org.country).code().to_string(),
        invoice_email: None,
        updated_at: db::now(),
    })
}

/// The settings a `PUT` gives: all three, replacing the stored ones.
#[derive(Debug, Clone)]
pub struct SettingsInput {
    pub attach_invoice_pdf: bool,
    pub invoice_language: Language,
    /// `None` (JSON `null`): no extra address.
    pub invoice_email: Option<String>,
}

/// The settings in force for the caller's organisation (defaults when never saved).
pub async fn get(pool: &Pool, org: &OrgRequest) -> Result<BillingSettings, AppError> {
    let org = org.clone();
    db::run(pool, move |conn| {
        org.authorize(conn)?;
        effective(conn, &org.org_id)
    })
    .await
}

/// Replaces the organisation's settings at once (R27) and records one activity; returns them
/// as saved. The address is checked like every email address (422 with the field).
pub async fn update(
    pool: &Pool,
    meta: Origin,
    org: &OrgRequest,
    input: SettingsInput,
) -> Result<BillingSettings, AppError> {
    let mut checks = Checks::default();
    let email = match input.invoice_email.as_deref() {
        Some(raw) => checks
            .check(Email::parse(raw, "/invoice_email"))
            .map(|e| Some(e.into_inner())),
        None => Some(None),
    };
    checks.finish()?;
    let invoice_email = email.flatten();
    let org = org.clone();
    db::run(pool, move |conn| {
        db::write_retrying(conn, |c| {
            org.authorize(c)?;
            let previous = effective(c, &org.org_id)?;
            let settings = BillingSettings {
                organization_id: org.org_id.to_string(),
                attach_invoice_pdf: input.attach_invoice_pdf,
                invoice_language: input.invoice_language.code().to_string(),
                invoice_email: invoice_email.clone(),
                updated_at: db::now(),
            };
            billing_settings::save(c, &settings)?;
            activity::record(
                c,
                &meta,
                Event::organization_billing_settings_updated(
                    &org.caller.user_id,
                    &org.org_id,
                    &settings,
                    &previous,
                ),
            )?;
            Ok(settings)
        })
    })
    .await
}

/// The invoice document of `invoice_id` in the organisation's invoice language.
fn invoice_document(settings: &BillingSettings, invoice_id: &str) -> Attachment {
    Attachment {
        kind: DocumentKind::Invoice,
        organization_id: settings.organization_id.clone(),
        id: invoice_id.to_string(),
        language: parse_language(&settings.invoice_language),
    }
}

/// What a receipt or renewal mail about the paid invoice `invoice_id` carries (R27): its PDF in
/// the organisation's invoice language when `attach_invoice_pdf` is on, else nothing. The one
/// place every such mail asks.
pub fn invoice_attachments(
    conn: &mut DbConnection,
    org_id: &str,
    invoice_id: &str,
) -> Result<Vec<Attachment>, AppError> {
    let settings = effective(conn, org_id)?;
    Ok(if settings.attach_invoice_pdf {
        vec![invoice_document(&settings, invoice_id)]
    } else {
        vec![]
    })
}

/// Mails a copy of the just-paid `invoice` to the organisation's `invoice_email`, if it has one
/// (the `invoice_copy` mail in the invoice language, its PDF always attached), in the caller's
/// transaction: the one where the invoice becomes paid.
pub fn send_invoice_copy(
    conn: &mut DbConnection,
    config: &Config,
    invoice: &Invoice,
) -> Result<(), AppError> {
    let settings = effective(conn, &invoice.organization_id)?;
    let Some(to) = settings.invoice_email.as_deref() else {
        return Ok(());
    };
    let Some(org) = organizations::find(conn, &invoice.organization_id)? else {
        return Ok(());
    };
    let currency = Currency::from_code(&invoice.currency);
    mail::send_with_attachments(
        conn,
        config,
        "invoice_copy",
        &settings.invoice_language,
        to,
        serde_json::json!({
            "invoice_number": invoice.number,
            "organization_name": org.name,
            "amount": Money::from_minor(invoice.total_minor, currency).display(),
            "issued_on": invoice.issued_at.date().to_string(),
        }),
        &[invoice_document(&settings, &invoice.id)],
    )?;
    Ok(())
}
