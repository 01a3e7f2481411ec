//! Invoices, their lines and their numbers. An issued invoice's amounts and lines never change;
//! only its status (paid, refunded, cancelled) moves. Numbers are `<year>-<6 digits>`, gapless
//! per issuer and year: the counter row is incremented in the issuing transaction, which locks
//! it, so concurrent issues queue and a rolled-back issue gives its number back.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::db::schema::{invoice_counters, invoice_lines, invoices};
use crate::domain::billing_states::InvoiceStatus;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = invoices)]
pub struct Invoice {
    pub id: String,
    pub organization_id: String,
    pub issuer: String,
    pub number: String,
    #[diesel(deserialize_as = String, serialize_as = String)]
    pub status: InvoiceStatus,
    pub currency: String,
    pub subtotal_minor: i64,
    pub vat_minor: i64,
    pub total_minor: i64,
    pub refunded_minor: i64,
    pub customer_name: String,
    pub customer_address: String,
    pub customer_country: String,
    pub customer_vat_number: Option<String>,
    pub order_id: Option<String>,
    pub issued_at: NaiveDateTime,
    pub due_at: NaiveDateTime,
    pub paid_at: Option<NaiveDateTime>,
    pub cancelled_at: Option<NaiveDateTime>,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = invoice_lines)]
pub struct InvoiceLine {
    pub id: String,
    pub invoice_id: String,
    pub position: i32,
    pub description: String,
    pub product_id: Option<String>,
    pub quantity: i64,
    pub unit_price_minor: i64,
    /// Percent, as a decimal string (`8.1`).
    pub vat_rate: String,
    pub net_minor: i64,
    pub vat_minor: i64,
    pub total_minor: i64,
    pub period_start: Option<NaiveDateTime>,
    pub period_end: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Default)]
pub struct InvoiceFilter {
    pub statuses: Vec<InvoiceStatus>,
    pub from: Option<NaiveDateTime>,
    pub before: Option<NaiveDateTime>,
}

/// The next number of `issuer` in `year`, taken in the caller's transaction.
pub fn next_number(conn: &mut DbConnection, issuer: &str, year: i32) -> QueryResult<String> {
    diesel::sql_query(
        "INSERT INTO invoice_counters (issuer, year, last_seq) VALUES ($1, $2, 0) ON CONFLICT (issuer, year) DO NOTHING",
    )
    .bind::<diesel::sql_types::Text, _>(issuer)
    .bind::<diesel::sql_types::Integer, _>(year)
    .execute(conn)?;
    diesel::update(invoice_counters::table.find((issuer, year)))
        .set(invoice_counters::last_seq.eq(invoice_counters::last_seq + 1))
        .execute(conn)?;
    let seq: i64 = invoice_counters::table
        .find((issuer, year))
        .select(invoice_counters::last_seq)
        .first(conn)?;
    Ok(format!("{year}-{seq:06}"))
}

/// Takes `count` consecutive numbers of `issuer` in `year` at once; returns the first sequence.
pub fn reserve_numbers(
    conn: &mut DbConnection,
    issuer: &str,
    year: i32,
    count: i64,
) -> QueryResult<i64> {
    next_number(conn, issuer, year)?;
    diesel::update(invoice_counters::table.find((issuer, year)))
        .set(invoice_counters::last_seq.eq(invoice_counters::last_seq + (count - 1)))
        .execute(conn)?;
    let last: i64 = invoice_counters::table
        .find((issuer, year))
        .select(invoice_counters::last_seq)
        .first(conn)?;
    Ok(last - count + 1)
}

pub fn insert(
    conn: &mut DbConnection,
    invoice: &Invoice,
    lines: &[InvoiceLine],
) -> QueryResult<()> {
    diesel::insert_into(invoices::table)
        .values(invoice.clone())
        .execute(conn)?;
    // One statement per line: a multi-row insert is not available on both engines at once.
    for line in lines {
        diesel::insert_into(invoice_lines::table)
            .values(line)
            .execute(conn)?;
    }
    Ok(())
}

pub fn find(conn: &mut DbConnection, org_id: &str, id: &str) -> QueryResult<Option<Invoice>> {
    invoices::table
        .find(id)
        .filter(invoices::organization_id.eq(org_id))
        .select(Invoice::as_select())
        .first(conn)
        .optional()
}

pub fn find_any(conn: &mut DbConnection, id: &str) -> QueryResult<Option<Invoice>> {
    invoices::table
        .find(id)
        .select(Invoice::as_select())
        .first(conn)
        .optional()
}

pub fn find_by_number(conn: &mut DbConnection, number: &str) -> QueryResult<Option<Invoice>> {
    invoices::table
        .filter(invoices::number.eq(number))
        .select(Invoice::as_select())
        .first(conn)
        .optional()
}

pub fn lines(conn: &mut DbConnection, invoice_id: &str) -> QueryResult<Vec<InvoiceLine>> {
    invoice_lines::table
        .filter(invoice_lines::invoice_id.eq(invoice_id))
        .order(invoice_lines::position)
        .select(InvoiceLine::as_select())
        .load(conn)
}

/// The lines of several invoices at once (no query per invoice).
pub fn lines_of(conn: &mut DbConnection, ids: &[String]) -> QueryResult<Vec<InvoiceLine>> {
    invoice_lines::table
        .filter(invoice_lines::invoice_id.eq_any(ids))
        .order((invoice_lines::invoice_id, invoice_lines::position))
        .select(InvoiceLine::as_select())
        .load(conn)
}

/// The organisation's invoices, newest first, after the keyset `before` (issued_at, id): a range
/// scan of `invoices_org_idx` (or `invoices_org_status_idx` with a status filter).
pub fn page(
    conn: &mut DbConnection,
    org_id: &str,
    filter: &InvoiceFilter,
    before: Option<(NaiveDateTime, String)>,
    limit: i64,
) -> QueryResult<Vec<Invoice>> {
    let mut query = invoices::table
        .filter(invoices::organization_id.eq(org_id))
        .select(Invoice::as_select())
        .order((invoices::issued_at.desc(), invoices::id.desc()))
        .limit(limit)
        .into_boxed();
    if !filter.statuses.is_empty() {
        query = query.filter(invoices::status.eq_any(filter.statuses.iter().map(|s| s.as_str())));
    }
    if let Some(from) = filter.from {
        query = query.filter(invoices::issued_at.ge(from));
    }
    if let Some(before) = filter.before {
        query = query.filter(invoices::issued_at.lt(before));
    }
    if let Some((at, id)) = before {
        query = query.filter(
            invoices::issued_at
                .le(at)
                .and(invoices::issued_at.lt(at).or(invoices::id.lt(id))),
        );
    }
    query.load(conn)
}

/// How many of the organisation's invoices match `filter` (an export's size, told before it runs).
pub fn count_matching(
    conn: &mut DbConnection,
    org_id: &str,
    filter: &InvoiceFilter,
) -> QueryResult<i64> {
    let mut query = invoices::table
        .filter(invoices::organization_id.eq(org_id))
        .into_boxed();
    if !filter.statuses.is_empty() {
        query = query.filter(invoices::status.eq_any(filter.statuses.iter().map(|s| s.as_str())));
    }
    if let Some(from) = filter.from {
        query = query.filter(invoices::issued_at.ge(from));
    }
    if let Some(before) = filter.before {
        query = query.filter(invoices::issued_at.lt(before));
    }
    query.count().get_result(conn)
}

/// Moves an invoice from `from` to `to`; false when it was not in `from` (someone else won).
pub fn transition(
    conn: &mut DbConnection,
    id: &str,
    from: InvoiceStatus,
    to: InvoiceStatus,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let target = invoices::table
        .find(id)
        .filter(invoices::status.eq(from.as_str()));
    let n = match to {
        InvoiceStatus::Paid => diesel::update(target)
            .set((
                invoices::status.eq(to.as_str()),
                invoices::paid_at.eq(Some(now)),
                invoices::updated_at.eq(now),
            ))
            .execute(conn)?,
        InvoiceStatus::Cancelled => diesel::update(target)
            .set((
                invoices::status.eq(to.as_str()),
                invoices::cancelled_at.eq(Some(now)),
                invoices::updated_at.eq(now),
            ))
            .execute(conn)?,
        _ => diesel::update(target)
            .set((
                invoices::status.eq(to.as_str()),
                invoices::updated_at.eq(now),
            ))
            .execute(conn)?,
    };
    Ok(n == 1)
}

/// Adds a refund to a paid invoice: `partially_refunded`, or `refunded` once all is back.
/// False when the invoice cannot take that much back.
pub fn add_refund(
    conn: &mut DbConnection,
    id: &str,
    minor: i64,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let Some(inv) = find_any(conn, id)? else {
        return Ok(false);
    };
    let refunded = inv.refunded_minor + minor;
    if minor <= 0 || refunded > inv.total_minor || !inv.status.is_refundable() {
        return Ok(false);
    }
    let status = if refunded == inv.total_minor {
        InvoiceStatus::Refunded
    } else {
        InvoiceStatus::PartiallyRefunded
    };
    let n = diesel::update(
        invoices::table
            .find(id)
            .filter(invoices::refunded_minor.eq(inv.refunded_minor)),
    )
    .set((
        invoices::refunded_minor.eq(refunded),
        invoices::status.eq(status.as_str()),
        invoices::updated_at.eq(now),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

pub fn count_open(conn: &mut DbConnection, org_id: &str) -> QueryResult<i64> {
    invoices::table
        .filter(invoices::organization_id.eq(org_id))
        .filter(invoices::status.eq(InvoiceStatus::Open.as_str()))
        .count()
        .get_result(conn)
}

pub fn count_all(conn: &mut DbConnection, org_id: &str) -> QueryResult<i64> {
    invoices::table
        .filter(invoices::organization_id.eq(org_id))
        .count()
        .get_result(conn)
}
