//! An organisation's billing settings (R27): whether mails carry the invoice PDF, the language
//! of its documents, and an extra address that receives every invoice. No row: the defaults.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::db::schema::billing_settings;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = billing_settings)]
pub struct BillingSettings {
    pub organization_id: String,
    pub attach_invoice_pdf: bool,
    /// `en`, `fr`, `de`, `it` or `es`.
    pub invoice_language: String,
    pub invoice_email: Option<String>,
    pub updated_at: NaiveDateTime,
}

/// The stored settings of `org_id`, if it ever saved any.
pub fn find(conn: &mut DbConnection, org_id: &str) -> QueryResult<Option<BillingSettings>> {
    billing_settings::table
        .find(org_id)
        .select(BillingSettings::as_select())
        .first(conn)
        .optional()
}

/// Saves `settings` (insert or replace), in the caller's transaction.
pub fn save(conn: &mut DbConnection, settings: &BillingSettings) -> QueryResult<()> {
    let updated = diesel::update(billing_settings::table.find(&settings.organization_id))
        .set((
            billing_settings::attach_invoice_pdf.eq(settings.attach_invoice_pdf),
            billing_settings::invoice_language.eq(&settings.invoice_language),
            billing_settings::invoice_email.eq(&settings.invoice_email),
            billing_settings::updated_at.eq(settings.updated_at),
        ))
        .execute(conn)?;
    if updated == 0 {
        diesel::insert_into(billing_settings::table)
            .values(settings.clone())
            .execute(conn)?;
    }
    Ok(())
}
