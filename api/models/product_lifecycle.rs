//! The product lifecycle's queries (issue 11, expiry and cancellation): the products due for their
//! next step, read through the index `products_status_expiry_idx (status, expires_at)`, and every
//! change of status as a compare-and-set on the status it leaves, so two passes racing each move a
//! product once. Also who at an organisation hears about it.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::db::schema::{memberships, products, users};
use crate::domain::billing_states::ProductStatus;
use crate::domain::orgs::{Permission, Permissions, Role};
use crate::models::products::Product;

/// The products in `status` whose expiry is at or before `cutoff`, of the offers `offer_ids`
/// (those sharing one set of lifecycle terms), not included in a bundle (those follow their
/// bundle), oldest expiry first, at most `limit`.
pub fn due(
    conn: &mut DbConnection,
    status: ProductStatus,
    offer_ids: &[String],
    cutoff: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<Product>> {
    products::table
        .filter(products::status.eq(status.as_str()))
        .filter(products::expires_at.le(cutoff))
        .filter(products::offer_id.eq_any(offer_ids))
        .filter(products::bundle_id.is_null())
        .order((products::expires_at, products::id))
        .limit(limit)
        .select(Product::as_select())
        .load(conn)
}

/// `transition`, only while the product's expiry is at or before `due_by`: the expiry pass's
/// step, so a renewal paid since the pass read the product (the expiry moved on) keeps it as it
/// is (found by the review). The caller holds the organisation's lock, which every renewal
/// takes before moving an expiry, so the expiry read here cannot change before the update.
pub fn transition_due(
    conn: &mut DbConnection,
    id: &str,
    from: &[ProductStatus],
    to: ProductStatus,
    due_by: NaiveDateTime,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let expiry: Option<Option<NaiveDateTime>> = products::table
        .find(id)
        .select(products::expires_at)
        .first(conn)
        .optional()?;
    if expiry.flatten().is_none_or(|e| e > due_by) {
        return Ok(false);
    }
    transition(conn, id, from, to, now)
}

/// Moves a product from one of `from` to `to` (compare-and-set); false when it was in none of
/// them. Leaving for `cancelled` or `cancellation_pending` turns automatic renewal off (and
/// forgets its card); `cancelled` also sets `cancelled_at`.
pub fn transition(
    conn: &mut DbConnection,
    id: &str,
    from: &[ProductStatus],
    to: ProductStatus,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let from: Vec<&str> = from.iter().map(|s| s.as_str()).collect();
    let target = products::table
        .find(id)
        .filter(products::status.eq_any(from));
    let n = match to {
        ProductStatus::Cancelled => diesel::update(target)
            .set((
                products::status.eq(to.as_str()),
                products::status_changed_at.eq(Some(now)),
                products::cancelled_at.eq(Some(now)),
                products::auto_renew.eq(false),
                products::auto_renew_payment_method_id.eq(None::<String>),
                products::updated_at.eq(now),
            ))
            .execute(conn)?,
        ProductStatus::CancellationPending => diesel::update(target)
            .set((
                products::status.eq(to.as_str()),
                products::status_changed_at.eq(Some(now)),
                products::auto_renew.eq(false),
                products::auto_renew_payment_method_id.eq(None::<String>),
                products::updated_at.eq(now),
            ))
            .execute(conn)?,
        _ => diesel::update(target)
            .set((
                products::status.eq(to.as_str()),
                products::status_changed_at.eq(Some(now)),
                products::updated_at.eq(now),
            ))
            .execute(conn)?,
    };
    if n == 1 {
        crate::models::domains::follow_product(conn, id, to, now)?;
    }
    Ok(n == 1)
}

/// The products a bundle includes (`bundle_id`), not cancelled.
pub fn included_in(conn: &mut DbConnection, bundle_id: &str) -> QueryResult<Vec<Product>> {
    products::table
        .filter(products::bundle_id.eq(bundle_id))
        .filter(products::status.ne(ProductStatus::Cancelled.as_str()))
        .order(products::id)
        .select(Product::as_select())
        .load(conn)
}

/// Someone of an organisation who hears about its products.
#[derive(Debug, Clone, Queryable)]
pub struct Recipient {
    pub user_id: String,
    #[diesel(deserialize_as = String)]
    pub role: Role,
    #[diesel(deserialize_as = String)]
    pub permissions: Permissions,
    pub email: String,
    pub first_name: String,
    pub language: String,
}

impl Recipient {
    /// Admins, legal representatives and holders of `accounting` (R23).
    pub fn holds_accounting(&self) -> bool {
        self.role.holds_all() || self.permissions.contains(&Permission::Accounting)
    }

    /// Admins and legal representatives.
    pub fn is_admin(&self) -> bool {
        self.role.holds_all()
    }
}

/// The members of an organisation whose accounts are live, by user id.
pub fn members(conn: &mut DbConnection, org_id: &str) -> QueryResult<Vec<Recipient>> {
    memberships::table
        .inner_join(users::table.on(users::id.eq(memberships::user_id)))
        .filter(memberships::organization_id.eq(org_id))
        .filter(users::deleted_at.is_null())
        .order(memberships::user_id)
        .select((
            memberships::user_id,
            memberships::role,
            memberships::permissions,
            users::email,
            users::first_name,
            users::language,
        ))
        .load(conn)
}
