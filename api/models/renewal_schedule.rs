//! The scheduler's and auto-renewal's queries on products and renewals (issue 11): the products
//! due for an automatic renewal or a reminder, read through `products_status_expiry_idx (status,
//! expires_at)` in keyset batches; the auto-renewal switch; the renewal attempts; the
//! organisation's accounting holders.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::db::schema::{memberships, products, renewals, users};
use crate::domain::billing_states::{ChangeStatus, ProductStatus};
use crate::domain::orgs::{Permission, Role};
use crate::models::memberships::Membership;
use crate::models::products::Product;
use crate::models::renewals::Renewal;
use crate::models::users::User;

/// A keyset position in a pass: (expiry, product id).
pub type Cursor = (NaiveDateTime, String);

/// A batch of products with `status` whose expiry is in `(from, until]`, after `cursor`, by
/// expiry then id, with auto-renewal `auto_renew`: an index range scan on
/// `products_status_expiry_idx`, touching only the products in the window. `unreminded`: only
/// those not yet reminded at that stage (or a later one) of their current expiry.
#[allow(clippy::too_many_arguments)]
pub fn expiring(
    conn: &mut DbConnection,
    statuses: &[ProductStatus],
    auto_renew: bool,
    unreminded: Option<i32>,
    from: Option<NaiveDateTime>,
    until: NaiveDateTime,
    cursor: Option<&Cursor>,
    limit: i64,
) -> QueryResult<Vec<Product>> {
    let statuses: Vec<&str> = statuses.iter().map(|s| s.as_str()).collect();
    let mut q = products::table
        .filter(products::status.eq_any(statuses))
        .filter(products::expires_at.le(until))
        .filter(products::auto_renew.eq(auto_renew))
        .into_boxed();
    if let Some(from) = from {
        q = q.filter(products::expires_at.gt(from));
    }
    if let Some(stage) = unreminded {
        q = q.filter(
            products::reminded_for
                .is_null()
                .or(products::reminded_for.ne(products::expires_at))
                .or(products::reminder_stage.is_null())
                .or(products::reminder_stage.gt(Some(stage))),
        );
    }
    if let Some((at, id)) = cursor {
        q = q.filter(
            products::expires_at.gt(*at).or(products::expires_at
                .eq(*at)
                .and(products::id.gt(id.clone()))),
        );
    }
    q.order((products::expires_at.asc(), products::id.asc()))
        .limit(limit)
        .select(Product::as_select())
        .load(conn)
}

/// The SQL of the due query (for `EXPLAIN QUERY PLAN` in the bench).
pub fn due_query_sql() -> &'static str {
    "SELECT id FROM products WHERE status IN ('active') AND expires_at <= ? AND auto_renew = 1 \
     ORDER BY expires_at, id LIMIT 500"
}

pub fn find_product(conn: &mut DbConnection, id: &str) -> QueryResult<Option<Product>> {
    products::table
        .find(id)
        .select(Product::as_select())
        .first(conn)
        .optional()
}

/// Turns auto-renewal on (with the card `method_id`) or off for `ids`.
pub fn set_auto_renew(
    conn: &mut DbConnection,
    ids: &[String],
    method_id: Option<&str>,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(products::table.filter(products::id.eq_any(ids)))
        .set((
            products::auto_renew.eq(method_id.is_some()),
            products::auto_renew_payment_method_id.eq(method_id),
            products::updated_at.eq(now),
        ))
        .execute(conn)
}

/// The products whose auto-renewal the saved method `method_id` pays.
pub fn paid_by(conn: &mut DbConnection, method_id: &str) -> QueryResult<Vec<Product>> {
    products::table
        .filter(products::auto_renew.eq(true))
        .filter(products::auto_renew_payment_method_id.eq(method_id))
        .order(products::id.asc())
        .select(Product::as_select())
        .load(conn)
}

/// Marks the reminder `stage` (days before the expiry; negative after) sent for the product's
/// current expiry `expires_at`, unless it (or a later one) was: `false` when another pass did.
pub fn mark_reminded(
    conn: &mut DbConnection,
    product_id: &str,
    expires_at: NaiveDateTime,
    stage: i32,
) -> QueryResult<bool> {
    diesel::update(
        products::table
            .find(product_id)
            .filter(products::expires_at.eq(Some(expires_at)))
            .filter(
                products::reminded_for
                    .is_null()
                    .or(products::reminded_for.ne(Some(expires_at)))
                    .or(products::reminder_stage.is_null())
                    .or(products::reminder_stage.gt(Some(stage))),
            ),
    )
    .set((
        products::reminded_for.eq(Some(expires_at)),
        products::reminder_stage.eq(Some(stage)),
    ))
    .execute(conn)
    .map(|n| n == 1)
}

/// The live renewal of `product_id` for the term starting at `start`.
pub fn live_renewal(
    conn: &mut DbConnection,
    product_id: &str,
    start: NaiveDateTime,
) -> QueryResult<Option<Renewal>> {
    renewals::table
        .filter(renewals::product_id.eq(product_id))
        .filter(renewals::period_start.eq(start))
        .filter(renewals::status.ne(ChangeStatus::Voided.as_str()))
        .select(Renewal::as_select())
        .first(conn)
        .optional()
}

/// The scheduler's pending renewals that have an order (whose payments it reconciles).
pub fn pending_automatic(conn: &mut DbConnection, limit: i64) -> QueryResult<Vec<Renewal>> {
    renewals::table
        .filter(renewals::status.eq(ChangeStatus::Pending.as_str()))
        .filter(renewals::automatic.eq(true))
        .filter(renewals::order_id.is_not_null())
        .order(renewals::id.asc())
        .limit(limit)
        .select(Renewal::as_select())
        .load(conn)
}

/// Records an attempt at charging a renewal: its count, the next try (none: no more), and why
/// the last one failed.
pub fn record_attempt(
    conn: &mut DbConnection,
    renewal_id: &str,
    attempts: i32,
    next_attempt_at: Option<NaiveDateTime>,
) -> QueryResult<usize> {
    diesel::update(renewals::table.find(renewal_id))
        .set((
            renewals::attempts.eq(attempts),
            renewals::next_attempt_at.eq(next_attempt_at),
        ))
        .execute(conn)
}

/// Records why an attempt failed; `stop` ends the retries.
pub fn record_failure(
    conn: &mut DbConnection,
    renewal_id: &str,
    failure: &str,
    stop: bool,
) -> QueryResult<usize> {
    if stop {
        diesel::update(renewals::table.find(renewal_id))
            .set((
                renewals::last_failure.eq(Some(failure)),
                renewals::next_attempt_at.eq(None::<NaiveDateTime>),
            ))
            .execute(conn)
    } else {
        diesel::update(renewals::table.find(renewal_id))
            .set(renewals::last_failure.eq(Some(failure)))
            .execute(conn)
    }
}

/// The organisation's accounting holders: admins, legal representatives and members with the
/// `accounting` permission, with their accounts (admins and legal representatives first).
pub fn accounting_holders(
    conn: &mut DbConnection,
    org_id: &str,
) -> QueryResult<Vec<(Membership, User)>> {
    let rows: Vec<(Membership, User)> = memberships::table
        .inner_join(users::table)
        .filter(memberships::organization_id.eq(org_id))
        .order((memberships::created_at.asc(), memberships::user_id.asc()))
        .select((Membership::as_select(), User::as_select()))
        .load(conn)?;
    let mut holders: Vec<(Membership, User)> = rows
        .into_iter()
        .filter(|(m, _)| m.grant().holds(Permission::Accounting))
        .collect();
    holders.sort_by_key(|(m, _)| m.role == Role::Member);
    Ok(holders)
}
