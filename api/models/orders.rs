//! Orders: what was bought at once, with the invoice issued for it.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::db::schema::orders;
use crate::domain::billing_states::OrderStatus;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = orders)]
pub struct Order {
    pub id: String,
    pub organization_id: String,
    #[diesel(deserialize_as = String, serialize_as = String)]
    pub status: OrderStatus,
    pub invoice_id: String,
    pub currency: String,
    pub total_minor: i64,
    pub created_by: String,
    pub expires_at: NaiveDateTime,
    pub paid_at: Option<NaiveDateTime>,
    pub cancelled_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConnection, o: &Order) -> QueryResult<usize> {
    diesel::insert_into(orders::table)
        .values(o.clone())
        .execute(conn)
}

pub fn find(conn: &mut DbConnection, org_id: &str, id: &str) -> QueryResult<Option<Order>> {
    orders::table
        .find(id)
        .filter(orders::organization_id.eq(org_id))
        .select(Order::as_select())
        .first(conn)
        .optional()
}

pub fn find_by_invoice(conn: &mut DbConnection, invoice_id: &str) -> QueryResult<Option<Order>> {
    orders::table
        .filter(orders::invoice_id.eq(invoice_id))
        .select(Order::as_select())
        .first(conn)
        .optional()
}

/// The organisation's orders, newest first, after the keyset `before`.
pub fn page(
    conn: &mut DbConnection,
    org_id: &str,
    statuses: &[OrderStatus],
    before: Option<(NaiveDateTime, String)>,
    limit: i64,
) -> QueryResult<Vec<Order>> {
    let mut query = orders::table
        .filter(orders::organization_id.eq(org_id))
        .select(Order::as_select())
        .order((orders::created_at.desc(), orders::id.desc()))
        .limit(limit)
        .into_boxed();
    if !statuses.is_empty() {
        query = query.filter(orders::status.eq_any(statuses.iter().map(|s| s.as_str())));
    }
    if let Some((at, id)) = before {
        query = query.filter(
            orders::created_at
                .le(at)
                .and(orders::created_at.lt(at).or(orders::id.lt(id))),
        );
    }
    query.load(conn)
}

pub fn mark_paid(conn: &mut DbConnection, id: &str, now: NaiveDateTime) -> QueryResult<bool> {
    let n = diesel::update(
        orders::table
            .find(id)
            .filter(orders::status.eq(OrderStatus::Open.as_str())),
    )
    .set((
        orders::status.eq(OrderStatus::Paid.as_str()),
        orders::paid_at.eq(Some(now)),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

pub fn mark_cancelled(conn: &mut DbConnection, id: &str, now: NaiveDateTime) -> QueryResult<bool> {
    let n = diesel::update(
        orders::table
            .find(id)
            .filter(orders::status.eq(OrderStatus::Open.as_str())),
    )
    .set((
        orders::status.eq(OrderStatus::Cancelled.as_str()),
        orders::cancelled_at.eq(Some(now)),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Open orders whose time ran out, oldest first.
pub fn expired(conn: &mut DbConnection, now: NaiveDateTime, limit: i64) -> QueryResult<Vec<Order>> {
    orders::table
        .filter(orders::status.eq(OrderStatus::Open.as_str()))
        .filter(orders::expires_at.le(now))
        .order(orders::expires_at)
        .limit(limit)
        .select(Order::as_select())
        .load(conn)
}
