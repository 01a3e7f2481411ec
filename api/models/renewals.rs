//! Renewals: one row per product and term (see the migration `000012_product_lifecycle`).
//! Paying a renewal's order moves the product's expiry exactly once: the row goes `pending` →
//! `applied` by a guarded update, and the product's expiry moves only from the term's start.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::db::schema::{products, renewals};
use crate::domain::billing_states::{ChangeStatus, ProductStatus};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = renewals)]
pub struct Renewal {
    pub id: String,
    pub organization_id: String,
    pub product_id: String,
    pub order_id: Option<String>,
    pub pro_forma_id: Option<String>,
    pub period_start: NaiveDateTime,
    pub period_end: NaiveDateTime,
    pub period_months: i32,
    /// The term's price (one period, options included, before VAT) and options (JSON).
    pub price_minor: i64,
    pub options: String,
    #[diesel(deserialize_as = String, serialize_as = String)]
    pub status: ChangeStatus,
    pub automatic: bool,
    pub attempts: i32,
    pub next_attempt_at: Option<NaiveDateTime>,
    pub last_failure: Option<String>,
    pub created_at: NaiveDateTime,
    pub settled_at: Option<NaiveDateTime>,
}

/// Inserts a pending renewal. A live renewal of the same product and term already there fails
/// with a unique violation (`db::is_unique_violation`): the caller answers 409.
pub fn insert(conn: &mut DbConnection, r: &Renewal) -> QueryResult<usize> {
    diesel::insert_into(renewals::table)
        .values(r.clone())
        .execute(conn)
}

pub fn of_order(conn: &mut DbConnection, order_id: &str) -> QueryResult<Vec<Renewal>> {
    renewals::table
        .filter(renewals::order_id.eq(order_id))
        .order(renewals::id.asc())
        .select(Renewal::as_select())
        .load(conn)
}

pub fn of_pro_forma(conn: &mut DbConnection, pro_forma_id: &str) -> QueryResult<Vec<Renewal>> {
    renewals::table
        .filter(renewals::pro_forma_id.eq(pro_forma_id))
        .order(renewals::id.asc())
        .select(Renewal::as_select())
        .load(conn)
}

/// The pending renewals of `product_ids` (a product has at most one per term).
pub fn pending_of_products(
    conn: &mut DbConnection,
    product_ids: &[String],
) -> QueryResult<Vec<Renewal>> {
    renewals::table
        .filter(renewals::product_id.eq_any(product_ids))
        .filter(renewals::status.eq(ChangeStatus::Pending.as_str()))
        .select(Renewal::as_select())
        .load(conn)
}

/// What applying a renewal did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// The expiry moved from the term's start to its end.
    Extended,
    /// The renewal was applied before (or voided): nothing moved.
    AlreadySettled,
    /// The product's expiry is no longer the term's start: nothing moved, and the caller must
    /// roll back (this cannot happen while the unique index holds).
    ExpiryMoved,
}

/// Applies a pending renewal in the caller's transaction: claims the row, then moves the
/// product's expiry from `period_start` to `period_end` (compare-and-set) with the term's billing
/// period; an `expired` or `suspended` product is active again with its original term dates.
pub fn apply(conn: &mut DbConnection, r: &Renewal, now: NaiveDateTime) -> QueryResult<Applied> {
    let claimed = diesel::update(
        renewals::table
            .find(&r.id)
            .filter(renewals::status.eq(ChangeStatus::Pending.as_str())),
    )
    .set((
        renewals::status.eq(ChangeStatus::Applied.as_str()),
        renewals::settled_at.eq(Some(now)),
        renewals::next_attempt_at.eq(None::<NaiveDateTime>),
    ))
    .execute(conn)?;
    if claimed == 0 {
        return Ok(Applied::AlreadySettled);
    }
    let renewable = [
        ProductStatus::Active.as_str(),
        ProductStatus::Expired.as_str(),
        ProductStatus::Suspended.as_str(),
    ];
    let moved = diesel::update(
        products::table
            .find(&r.product_id)
            .filter(products::expires_at.eq(Some(r.period_start)))
            .filter(products::status.eq_any(renewable)),
    )
    .set((
        products::expires_at.eq(Some(r.period_end)),
        products::period_months.eq(r.period_months),
        products::price_minor.eq(r.price_minor),
        products::options.eq(&r.options),
        products::next_period_months.eq(None::<i32>),
        products::next_options.eq(None::<String>),
        products::updated_at.eq(now),
    ))
    .execute(conn)?;
    if moved == 0 {
        return Ok(Applied::ExpiryMoved);
    }
    // The products a bundle includes follow it, from the same expiry.
    diesel::update(
        products::table
            .filter(products::bundle_id.eq(&r.product_id))
            .filter(products::expires_at.eq(Some(r.period_start))),
    )
    .set((
        products::expires_at.eq(Some(r.period_end)),
        products::period_months.eq(r.period_months),
        products::updated_at.eq(now),
    ))
    .execute(conn)?;
    let lapsed = [
        ProductStatus::Expired.as_str(),
        ProductStatus::Suspended.as_str(),
    ];
    diesel::update(
        products::table
            .filter(
                products::id
                    .eq(&r.product_id)
                    .or(products::bundle_id.eq(&r.product_id)),
            )
            .filter(products::status.eq_any(lapsed)),
    )
    .set((
        products::status.eq(ProductStatus::Active.as_str()),
        products::status_changed_at.eq(Some(now)),
    ))
    .execute(conn)?;
    crate::models::domains::follow_product(conn, &r.product_id, ProductStatus::Active, now)?;
    Ok(Applied::Extended)
}

/// Voids the pending renewals of an order that lapsed unpaid; returns how many.
pub fn void_of_order(
    conn: &mut DbConnection,
    order_id: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        renewals::table
            .filter(renewals::order_id.eq(order_id))
            .filter(renewals::status.eq(ChangeStatus::Pending.as_str())),
    )
    .set((
        renewals::status.eq(ChangeStatus::Voided.as_str()),
        renewals::settled_at.eq(Some(now)),
        renewals::next_attempt_at.eq(None::<NaiveDateTime>),
    ))
    .execute(conn)
}

/// Voids the pending renewals of a pro forma that lapsed unpaid; returns how many.
pub fn void_of_pro_forma(
    conn: &mut DbConnection,
    pro_forma_id: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        renewals::table
            .filter(renewals::pro_forma_id.eq(pro_forma_id))
            .filter(renewals::status.eq(ChangeStatus::Pending.as_str())),
    )
    .set((
        renewals::status.eq(ChangeStatus::Voided.as_str()),
        renewals::settled_at.eq(Some(now)),
        renewals::next_attempt_at.eq(None::<NaiveDateTime>),
    ))
    .execute(conn)
}

/// What the renewals list shows (R33): the organisation's products in `statuses` with an expiry,
/// not included in a bundle, of `kinds` (all when empty), expiring by `until` (all when None).
pub struct DueFilter {
    pub statuses: Vec<ProductStatus>,
    pub kinds: Vec<crate::domain::billing_states::ProductKind>,
    pub until: Option<NaiveDateTime>,
}

/// A keyset page of renewable products, soonest expiry first (then id), after `after`.
pub fn page_due(
    conn: &mut DbConnection,
    org_id: &str,
    filter: &DueFilter,
    after: Option<(NaiveDateTime, String)>,
    limit: i64,
) -> QueryResult<Vec<crate::models::products::Product>> {
    let statuses: Vec<&str> = filter.statuses.iter().map(|s| s.as_str()).collect();
    let mut query = products::table
        .filter(products::organization_id.eq(org_id))
        .filter(products::status.eq_any(statuses))
        .filter(products::expires_at.is_not_null())
        .filter(products::bundle_id.is_null())
        .select(crate::models::products::Product::as_select())
        .order((products::expires_at.asc(), products::id.asc()))
        .limit(limit)
        .into_boxed();
    if !filter.kinds.is_empty() {
        query = query.filter(products::kind.eq_any(filter.kinds.iter().map(|k| k.as_str())));
    }
    if let Some(until) = filter.until {
        query = query.filter(products::expires_at.le(until));
    }
    if let Some((at, id)) = after {
        query = query.filter(
            products::expires_at
                .gt(at)
                .or(products::expires_at.eq(at).and(products::id.gt(id))),
        );
    }
    query.load(conn)
}

/// Links a pro forma's renewals to the order issued from it when its transfer arrived.
pub fn attach_order(
    conn: &mut DbConnection,
    pro_forma_id: &str,
    order_id: &str,
) -> QueryResult<usize> {
    diesel::update(
        renewals::table
            .filter(renewals::pro_forma_id.eq(pro_forma_id))
            .filter(renewals::order_id.is_null()),
    )
    .set(renewals::order_id.eq(Some(order_id)))
    .execute(conn)
}
