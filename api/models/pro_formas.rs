//! Pro forma invoices (R34): a renewal paid by bank transfer is first a pro forma, numbered in
//! its own gapless yearly sequence `PF-YYYY-NNNNNN` (outside the invoice sequence), of no legal
//! value; when the transfer arrives the order and its numbered invoice are issued from it.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::db::schema::{payments, pro_forma_counters, pro_formas, renewals};
use crate::domain::billing_states::{ChangeStatus, PaymentStatus};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = pro_formas)]
pub struct ProForma {
    pub id: String,
    pub organization_id: String,
    pub number: String,
    pub currency: String,
    pub subtotal_minor: i64,
    pub vat_minor: i64,
    pub total_minor: i64,
    /// The lines as they would be invoiced (JSON).
    pub lines: String,
    pub transfer_reference: Option<String>,
    pub order_id: Option<String>,
    pub invoice_id: Option<String>,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    /// A pro forma made on request whose transfer arrived: the payment (a top-up of the prepaid
    /// account) that first settled it, and when.
    pub credited_payment_id: Option<String>,
    pub credited_at: Option<NaiveDateTime>,
}

/// The next pro forma number of `year` (`PF-2026-000001`), in the caller's transaction: the
/// counter's row is locked until it commits, so numbers are gapless.
pub fn next_number(conn: &mut DbConnection, year: i32) -> QueryResult<String> {
    diesel::sql_query(
        "INSERT INTO pro_forma_counters (year, last_seq) VALUES ($1, 0) ON CONFLICT (year) DO NOTHING",
    )
    .bind::<diesel::sql_types::Integer, _>(year)
    .execute(conn)?;
    diesel::update(pro_forma_counters::table.find(year))
        .set(pro_forma_counters::last_seq.eq(pro_forma_counters::last_seq + 1))
        .execute(conn)?;
    let seq: i64 = pro_forma_counters::table
        .find(year)
        .select(pro_forma_counters::last_seq)
        .first(conn)?;
    Ok(format!("PF-{year}-{seq:06}"))
}

pub fn insert(conn: &mut DbConnection, p: &ProForma) -> QueryResult<usize> {
    diesel::insert_into(pro_formas::table)
        .values(p.clone())
        .execute(conn)
}

pub fn find(conn: &mut DbConnection, org_id: &str, id: &str) -> QueryResult<Option<ProForma>> {
    pro_formas::table
        .find(id)
        .filter(pro_formas::organization_id.eq(org_id))
        .select(ProForma::as_select())
        .first(conn)
        .optional()
}

pub fn find_any(conn: &mut DbConnection, id: &str) -> QueryResult<Option<ProForma>> {
    pro_formas::table
        .find(id)
        .select(ProForma::as_select())
        .first(conn)
        .optional()
}

/// The pro forma quoting `reference` as its transfer reference, of any organisation.
/// A pro forma by its number (`PF-2026-000001`).
pub fn find_by_number(conn: &mut DbConnection, number: &str) -> QueryResult<Option<ProForma>> {
    pro_formas::table
        .filter(pro_formas::number.eq(number))
        .select(ProForma::as_select())
        .first(conn)
        .optional()
}

pub fn find_by_reference(
    conn: &mut DbConnection,
    reference: &str,
) -> QueryResult<Option<ProForma>> {
    pro_formas::table
        .filter(pro_formas::transfer_reference.eq(reference))
        .select(ProForma::as_select())
        .first(conn)
        .optional()
}

/// Records the payment that first settled a pro forma made on request, once: false when one
/// settled it already (it keeps its first settlement).
pub fn mark_credited(
    conn: &mut DbConnection,
    id: &str,
    payment_id: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let n = diesel::update(
        pro_formas::table
            .find(id)
            .filter(pro_formas::credited_payment_id.is_null()),
    )
    .set((
        pro_formas::credited_payment_id.eq(Some(payment_id)),
        pro_formas::credited_at.eq(Some(now)),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Whether the organisation ever had a pro forma (its currency is then locked: a transfer in it
/// may still arrive).
pub fn any_for_organization(conn: &mut DbConnection, org_id: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        pro_formas::table.filter(pro_formas::organization_id.eq(org_id)),
    ))
    .get_result(conn)
}

/// Links a pro forma to the order and invoice issued from it, once: false when it was already.
pub fn mark_invoiced(
    conn: &mut DbConnection,
    id: &str,
    order_id: &str,
    invoice_id: &str,
) -> QueryResult<bool> {
    let n = diesel::update(
        pro_formas::table
            .find(id)
            .filter(pro_formas::order_id.is_null()),
    )
    .set((
        pro_formas::order_id.eq(Some(order_id)),
        pro_formas::invoice_id.eq(Some(invoice_id)),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// The pro formas whose time ran out before `now` uninvoiced with renewals still pending (their
/// transfer awaited, or failed): (id, organisation).
pub fn lapsed(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<(String, String)>> {
    let live = renewals::table
        .filter(renewals::status.eq(ChangeStatus::Pending.as_str()))
        .filter(renewals::pro_forma_id.is_not_null())
        .select(renewals::pro_forma_id.assume_not_null());
    pro_formas::table
        .filter(pro_formas::order_id.is_null())
        .filter(pro_formas::expires_at.le(now))
        .filter(pro_formas::id.eq_any(live))
        .order((pro_formas::expires_at, pro_formas::id))
        .limit(limit)
        .select((pro_formas::id, pro_formas::organization_id))
        .load(conn)
}

/// The bank transfer awaited for a pro forma, if any.
pub fn pending_transfer(
    conn: &mut DbConnection,
    pro_forma_id: &str,
) -> QueryResult<Option<crate::models::payments::Payment>> {
    payments::table
        .filter(payments::pro_forma_id.eq(pro_forma_id))
        .filter(payments::status.eq(PaymentStatus::Pending.as_str()))
        .select(crate::models::payments::Payment::as_select())
        .first(conn)
        .optional()
}

/// The pro forma's transfer becomes the payment of the invoice issued from it.
pub fn attach_invoice(
    conn: &mut DbConnection,
    payment_id: &str,
    invoice_id: &str,
) -> QueryResult<usize> {
    diesel::update(payments::table.find(payment_id))
        .set(payments::invoice_id.eq(Some(invoice_id)))
        .execute(conn)
}

/// The pro forma's latest payment (its transfer).
pub fn latest_payment(
    conn: &mut DbConnection,
    pro_forma_id: &str,
) -> QueryResult<Option<crate::models::payments::Payment>> {
    payments::table
        .filter(payments::pro_forma_id.eq(pro_forma_id))
        .order((payments::created_at.desc(), payments::id.desc()))
        .select(crate::models::payments::Payment::as_select())
        .first(conn)
        .optional()
}

/// The pro forma an invoice was issued from (or that names its order), if any: the newest.
pub fn of_invoice(
    conn: &mut DbConnection,
    invoice_id: &str,
    order_id: Option<&str>,
) -> QueryResult<Option<ProForma>> {
    let mut query = pro_formas::table
        .filter(pro_formas::invoice_id.eq(invoice_id))
        .into_boxed();
    if let Some(order) = order_id {
        query = query.or_filter(pro_formas::order_id.eq(order));
    }
    query
        .order((pro_formas::created_at.desc(), pro_formas::id.desc()))
        .select(ProForma::as_select())
        .first(conn)
        .optional()
}
