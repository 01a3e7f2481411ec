//! Products an organisation holds: one row per ordered item (a bundle with its options is one).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::db::schema::products;
use crate::domain::billing_states::{ProductKind, ProductStatus};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = products)]
pub struct Product {
    pub id: String,
    pub organization_id: String,
    pub offer_id: String,
    #[diesel(deserialize_as = String, serialize_as = String)]
    pub kind: ProductKind,
    pub name: String,
    pub period_months: i32,
    /// JSON object: option name → quantity.
    pub options: String,
    #[diesel(deserialize_as = String, serialize_as = String)]
    pub status: ProductStatus,
    pub auto_renew: bool,
    /// Price of one period, options included, before VAT.
    pub price_minor: i64,
    pub currency: String,
    pub order_id: String,
    pub started_at: Option<NaiveDateTime>,
    pub expires_at: Option<NaiveDateTime>,
    pub cancelled_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// The saved card that pays automatic renewals.
    pub auto_renew_payment_method_id: Option<String>,
    /// A billing frequency scheduled for the term's end (months).
    pub next_period_months: Option<i32>,
    /// Option quantities for the next term (a decrease), JSON like `options`.
    pub next_options: Option<String>,
    /// The bundle product that includes this one.
    pub bundle_id: Option<String>,
    /// The expiry the last renewal reminder was about, and its stage (days before; negative:
    /// after).
    pub reminded_for: Option<NaiveDateTime>,
    pub reminder_stage: Option<i32>,
    pub status_changed_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Default)]
pub struct ProductFilter {
    pub kinds: Vec<ProductKind>,
    pub statuses: Vec<ProductStatus>,
}

pub fn insert(conn: &mut DbConnection, p: &Product) -> QueryResult<usize> {
    diesel::insert_into(products::table)
        .values(p.clone())
        .execute(conn)
}

pub fn find(conn: &mut DbConnection, org_id: &str, id: &str) -> QueryResult<Option<Product>> {
    products::table
        .find(id)
        .filter(products::organization_id.eq(org_id))
        .select(Product::as_select())
        .first(conn)
        .optional()
}

/// The organisation's products, newest first, after the keyset `before` (created_at, id).
pub fn page(
    conn: &mut DbConnection,
    org_id: &str,
    filter: &ProductFilter,
    before: Option<(NaiveDateTime, String)>,
    limit: i64,
) -> QueryResult<Vec<Product>> {
    let mut query = products::table
        .filter(products::organization_id.eq(org_id))
        .select(Product::as_select())
        .order((products::created_at.desc(), products::id.desc()))
        .limit(limit)
        .into_boxed();
    if !filter.kinds.is_empty() {
        query = query.filter(products::kind.eq_any(filter.kinds.iter().map(|k| k.as_str())));
    }
    if !filter.statuses.is_empty() {
        query = query.filter(products::status.eq_any(filter.statuses.iter().map(|s| s.as_str())));
    }
    if let Some((at, id)) = before {
        query = query.filter(
            products::created_at
                .le(at)
                .and(products::created_at.lt(at).or(products::id.lt(id))),
        );
    }
    query.load(conn)
}

pub fn of_order(conn: &mut DbConnection, order_id: &str) -> QueryResult<Vec<Product>> {
    products::table
        .filter(products::order_id.eq(order_id))
        .order(products::id)
        .select(Product::as_select())
        .load(conn)
}

/// The products of several orders in one query (a page of orders), by order then id.
pub fn of_orders(conn: &mut DbConnection, order_ids: &[String]) -> QueryResult<Vec<Product>> {
    products::table
        .filter(products::order_id.eq_any(order_ids))
        .order((products::order_id, products::id))
        .select(Product::as_select())
        .load(conn)
}

/// Activates an order's products from `now` for their period.
pub fn activate_order(
    conn: &mut DbConnection,
    order_id: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    let mut n = 0;
    for p in of_order(conn, order_id)? {
        let expires = now
            .checked_add_months(chrono::Months::new(p.period_months.max(1) as u32))
            .unwrap_or(now);
        // A domain starts when the registry confirmed it (the `provision_domain` job), with the
        // registry's dates.
        if p.kind == crate::domain::billing_states::ProductKind::Domain {
            n += diesel::update(
                products::table
                    .find(&p.id)
                    .filter(products::status.eq(ProductStatus::PendingPayment.as_str())),
            )
            .set((
                products::status.eq(ProductStatus::Provisioning.as_str()),
                products::status_changed_at.eq(Some(now)),
                products::updated_at.eq(now),
            ))
            .execute(conn)?;
            continue;
        }
        n += diesel::update(
            products::table
                .find(&p.id)
                .filter(products::status.eq(ProductStatus::PendingPayment.as_str())),
        )
        .set((
            products::status.eq(ProductStatus::Active.as_str()),
            products::started_at.eq(Some(now)),
            products::expires_at.eq(Some(expires)),
            products::updated_at.eq(now),
        ))
        .execute(conn)?;
    }
    Ok(n)
}

/// Cancels an expired order's products that were never paid.
pub fn cancel_unpaid_of_order(
    conn: &mut DbConnection,
    order_id: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        products::table
            .filter(products::order_id.eq(order_id))
            .filter(products::status.eq(ProductStatus::PendingPayment.as_str())),
    )
    .set((
        products::status.eq(ProductStatus::Cancelled.as_str()),
        products::cancelled_at.eq(Some(now)),
        products::updated_at.eq(now),
    ))
    .execute(conn)
}

/// How many of the organisation's products are not cancelled.
pub fn count_not_cancelled(conn: &mut DbConnection, org_id: &str) -> QueryResult<i64> {
    products::table
        .filter(products::organization_id.eq(org_id))
        .filter(products::status.ne(ProductStatus::Cancelled.as_str()))
        .count()
        .get_result(conn)
}

/// The organisation's products not cancelled, oldest first: (id, name), at most `limit`.
pub fn not_cancelled(
    conn: &mut DbConnection,
    org_id: &str,
    limit: i64,
) -> QueryResult<Vec<(String, String)>> {
    products::table
        .filter(products::organization_id.eq(org_id))
        .filter(products::status.ne(ProductStatus::Cancelled.as_str()))
        .order((products::created_at, products::id))
        .limit(limit)
        .select((products::id, products::name))
        .load(conn)
}

pub fn count_all(conn: &mut DbConnection, org_id: &str) -> QueryResult<i64> {
    products::table
        .filter(products::organization_id.eq(org_id))
        .count()
        .get_result(conn)
}

/// Turns automatic renewal on for `ids`, paid by the saved card `method_id`.
pub fn turn_on_auto_renewal(
    conn: &mut DbConnection,
    ids: &[String],
    method_id: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    // Only running products (and domains the registry is registering): a paid renewal of a
    // product cancelled meanwhile never turns it on.
    diesel::update(products::table.filter(products::id.eq_any(ids)).filter(
        products::status.eq_any([
            ProductStatus::Active.as_str(),
            ProductStatus::Provisioning.as_str(),
        ]),
    ))
    .set((
        products::auto_renew.eq(true),
        products::auto_renew_payment_method_id.eq(Some(method_id)),
        products::updated_at.eq(now),
    ))
    .execute(conn)
}

/// The products a bundle includes.
pub fn of_bundle(conn: &mut DbConnection, bundle_id: &str) -> QueryResult<Vec<Product>> {
    products::table
        .filter(products::bundle_id.eq(bundle_id))
        .order(products::id)
        .select(Product::as_select())
        .load(conn)
}

/// Sets what changes at the term's end: the billing period (R38) and the option quantities of
/// the next term (a decrease, R42); `None` clears one.
pub fn schedule(
    conn: &mut DbConnection,
    id: &str,
    next_period_months: Option<i32>,
    next_options: Option<&str>,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(products::table.find(id))
        .set((
            products::next_period_months.eq(next_period_months),
            products::next_options.eq(next_options),
            products::updated_at.eq(now),
        ))
        .execute(conn)
}

/// Applies options at once (an upgrade that costs nothing for the rest of the term).
pub fn set_options(
    conn: &mut DbConnection,
    id: &str,
    options: &str,
    price_minor: i64,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(products::table.find(id))
        .set((
            products::options.eq(options),
            products::price_minor.eq(price_minor),
            products::updated_at.eq(now),
        ))
        .execute(conn)
}

/// Moves `ids` from `from_org` to `to_org`; their automatic renewal is turned off (its card
/// belongs to the old organisation). Returns how many moved.
pub fn move_to(
    conn: &mut DbConnection,
    ids: &[String],
    from_org: &str,
    to_org: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        products::table
            .filter(products::id.eq_any(ids))
            .filter(products::organization_id.eq(from_org)),
    )
    .set((
        products::organization_id.eq(to_org),
        products::auto_renew.eq(false),
        products::auto_renew_payment_method_id.eq(None::<String>),
        products::updated_at.eq(now),
    ))
    .execute(conn)
}

/// A provisioned product starts (`provisioning` → `active`) with the dates its provider gave
/// (a domain: the registry's expiry). False when it was not provisioning.
pub fn start_provisioned(
    conn: &mut DbConnection,
    id: &str,
    expires_at: NaiveDateTime,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    diesel::update(
        products::table
            .find(id)
            .filter(products::status.eq(ProductStatus::Provisioning.as_str())),
    )
    .set((
        products::status.eq(ProductStatus::Active.as_str()),
        products::started_at.eq(Some(now)),
        products::expires_at.eq(Some(expires_at)),
        products::status_changed_at.eq(Some(now)),
        products::updated_at.eq(now),
    ))
    .execute(conn)
    .map(|n| n == 1)
}

/// A provisioning product that could not be delivered (`provisioning` → `failed`), its
/// automatic renewal off.
pub fn fail_provisioning(
    conn: &mut DbConnection,
    id: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    diesel::update(
        products::table
            .find(id)
            .filter(products::status.eq(ProductStatus::Provisioning.as_str())),
    )
    .set((
        products::status.eq(ProductStatus::Failed.as_str()),
        products::auto_renew.eq(false),
        products::status_changed_at.eq(Some(now)),
        products::updated_at.eq(now),
    ))
    .execute(conn)
    .map(|n| n == 1)
}
