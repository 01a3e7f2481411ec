//! Changes of a product paid by an order (an upgrade of options, R42): `pending` until the
//! order is paid, then `applied` exactly once (a guarded update claims the row before the product
//! changes); `voided` when the order lapses unpaid. At most one pending change per product (the
//! unique index `product_changes_one_pending`).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::db::schema::{product_changes, products};
use crate::domain::billing_states::ChangeStatus;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = product_changes)]
pub struct ProductChange {
    pub id: String,
    pub organization_id: String,
    pub product_id: String,
    pub order_id: String,
    /// The product's option quantities once applied (JSON object, every option).
    pub options: String,
    #[diesel(deserialize_as = String, serialize_as = String)]
    pub status: ChangeStatus,
    pub created_at: NaiveDateTime,
    pub settled_at: Option<NaiveDateTime>,
    /// The product's price of one period once applied (before VAT, options included).
    pub price_minor: Option<i64>,
}

/// Inserts a pending change. Another pending change of the product fails with a unique
/// violation (`db::is_unique_violation`): the caller answers 409.
pub fn insert(conn: &mut DbConnection, c: &ProductChange) -> QueryResult<usize> {
    diesel::insert_into(product_changes::table)
        .values(c.clone())
        .execute(conn)
}

/// The product's pending change, if any.
pub fn pending_of_product(
    conn: &mut DbConnection,
    product_id: &str,
) -> QueryResult<Option<ProductChange>> {
    product_changes::table
        .filter(product_changes::product_id.eq(product_id))
        .filter(product_changes::status.eq(ChangeStatus::Pending.as_str()))
        .select(ProductChange::as_select())
        .first(conn)
        .optional()
}

pub fn of_order(conn: &mut DbConnection, order_id: &str) -> QueryResult<Vec<ProductChange>> {
    product_changes::table
        .filter(product_changes::order_id.eq(order_id))
        .order(product_changes::id.asc())
        .select(ProductChange::as_select())
        .load(conn)
}

/// Applies the pending changes an order paid, in the payment's transaction: each row is claimed
/// (`pending` → `applied`, guarded) before its product's options and price change, so a replayed
/// payment, a webhook and a retry apply it once. Returns how many were applied now.
pub fn apply_of_order(
    conn: &mut DbConnection,
    order_id: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    let mut n = 0;
    for change in of_order(conn, order_id)? {
        let claimed = diesel::update(
            product_changes::table
                .find(&change.id)
                .filter(product_changes::status.eq(ChangeStatus::Pending.as_str())),
        )
        .set((
            product_changes::status.eq(ChangeStatus::Applied.as_str()),
            product_changes::settled_at.eq(Some(now)),
        ))
        .execute(conn)?;
        if claimed == 0 {
            continue;
        }
        let target = products::table.find(&change.product_id);
        match change.price_minor {
            Some(price) => diesel::update(target)
                .set((
                    products::options.eq(&change.options),
                    products::price_minor.eq(price),
                    products::updated_at.eq(now),
                ))
                .execute(conn)?,
            None => diesel::update(target)
                .set((
                    products::options.eq(&change.options),
                    products::updated_at.eq(now),
                ))
                .execute(conn)?,
        };
        n += 1;
    }
    Ok(n)
}

/// Voids the pending changes of an order that lapsed unpaid; returns how many.
pub fn void_of_order(
    conn: &mut DbConnection,
    order_id: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        product_changes::table
            .filter(product_changes::order_id.eq(order_id))
            .filter(product_changes::status.eq(ChangeStatus::Pending.as_str())),
    )
    .set((
        product_changes::status.eq(ChangeStatus::Voided.as_str()),
        product_changes::settled_at.eq(Some(now)),
    ))
    .execute(conn)
}
