//! Credit notes: one per refund, numbered `CN-YYYY-NNNNNN` in their own gapless yearly
//! sequence (the counter's row is locked by the issuing transaction, so concurrent refunds queue
//! and a rolled-back refund gives its number back), each referring to the invoice refunded.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::db::schema::{credit_note_counters, credit_notes, invoices};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = credit_notes)]
pub struct CreditNote {
    pub id: String,
    pub organization_id: String,
    pub invoice_id: String,
    pub refund_id: String,
    pub number: String,
    pub currency: String,
    pub subtotal_minor: i64,
    pub vat_minor: i64,
    pub total_minor: i64,
    /// `prepaid` or `original` (the refund's destination).
    pub destination: String,
    /// The VAT rows as JSON: `[{"rate":"8.1","net_minor":…,"vat_minor":…}]`.
    pub vat_breakdown: String,
    pub issued_at: NaiveDateTime,
}

/// The next credit note number of `year` (`CN-2026-000001`), in the caller's transaction.
pub fn next_number(conn: &mut DbConnection, year: i32) -> QueryResult<String> {
    diesel::sql_query(
        "INSERT INTO credit_note_counters (year, last_seq) VALUES ($1, 0) ON CONFLICT (year) DO NOTHING",
    )
    .bind::<diesel::sql_types::Integer, _>(year)
    .execute(conn)?;
    diesel::update(credit_note_counters::table.find(year))
        .set(credit_note_counters::last_seq.eq(credit_note_counters::last_seq + 1))
        .execute(conn)?;
    let seq: i64 = credit_note_counters::table
        .find(year)
        .select(credit_note_counters::last_seq)
        .first(conn)?;
    Ok(format!("CN-{year}-{seq:06}"))
}

pub fn insert(conn: &mut DbConnection, note: &CreditNote) -> QueryResult<usize> {
    diesel::insert_into(credit_notes::table)
        .values(note.clone())
        .execute(conn)
}

/// One of `org_id`'s credit notes.
pub fn find(conn: &mut DbConnection, org_id: &str, id: &str) -> QueryResult<Option<CreditNote>> {
    credit_notes::table
        .find(id)
        .filter(credit_notes::organization_id.eq(org_id))
        .select(CreditNote::as_select())
        .first(conn)
        .optional()
}

/// The credit notes of one invoice, oldest first.
pub fn of_invoice(conn: &mut DbConnection, invoice_id: &str) -> QueryResult<Vec<CreditNote>> {
    credit_notes::table
        .filter(credit_notes::invoice_id.eq(invoice_id))
        .order((credit_notes::issued_at.asc(), credit_notes::id.asc()))
        .select(CreditNote::as_select())
        .load(conn)
}

/// The organisation's credit notes, newest first, after the keyset `before` (issued_at, id), each
/// with its invoice's number: a range scan of `credit_notes_org_idx` (only those of `invoice_id`
/// when given) and the invoices by primary key.
pub fn page_with_invoice_numbers(
    conn: &mut DbConnection,
    org_id: &str,
    invoice_id: Option<&str>,
    before: Option<(NaiveDateTime, String)>,
    limit: i64,
) -> QueryResult<Vec<(CreditNote, String)>> {
    let mut query = credit_notes::table
        .inner_join(invoices::table.on(invoices::id.eq(credit_notes::invoice_id)))
        .filter(credit_notes::organization_id.eq(org_id))
        .select((CreditNote::as_select(), invoices::number))
        .order((credit_notes::issued_at.desc(), credit_notes::id.desc()))
        .limit(limit)
        .into_boxed();
    if let Some(invoice_id) = invoice_id {
        query = query.filter(credit_notes::invoice_id.eq(invoice_id.to_string()));
    }
    if let Some((at, id)) = before {
        query = query.filter(
            credit_notes::issued_at
                .le(at)
                .and(credit_notes::issued_at.lt(at).or(credit_notes::id.lt(id))),
        );
    }
    query.load(conn)
}

/// The credit note issued for a refund, if any.
pub fn of_refund(conn: &mut DbConnection, refund_id: &str) -> QueryResult<Option<CreditNote>> {
    credit_notes::table
        .filter(credit_notes::refund_id.eq(refund_id))
        .select(CreditNote::as_select())
        .first(conn)
        .optional()
}
