//! Organisations: a space owning products, invoices and members. A deleted one is kept, read-only,
//! until `retain_until` (its invoices and activity must stay for the legal retention period).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::db::schema::{memberships, organizations, users};
use crate::domain::orgs::BillingAddress;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = organizations)]
pub struct Organization {
    pub id: String,
    pub name: String,
    pub country: String,
    pub currency: String,
    pub address_line1: String,
    pub address_line2: Option<String>,
    pub postal_code: String,
    pub city: String,
    pub vat_number: Option<String>,
    pub require_two_factor: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub deleted_at: Option<NaiveDateTime>,
    pub retain_until: Option<NaiveDateTime>,
    /// `prepaid`, a payment method id, or none chosen.
    pub default_payment_method: Option<String>,
}

impl Organization {
    /// Where its invoices are addressed (stored checked).
    pub fn billing_address(&self) -> BillingAddress {
        BillingAddress {
            line1: self.address_line1.clone(),
            line2: self.address_line2.clone(),
            postal_code: self.postal_code.clone(),
            city: self.city.clone(),
        }
    }
}

/// Fields an administrator may change (`None`: unchanged; `Some(None)`: cleared).
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = organizations)]
pub struct OrganizationChange {
    pub name: Option<String>,
    pub country: Option<String>,
    pub currency: Option<String>,
    pub address_line1: Option<String>,
    pub address_line2: Option<Option<String>>,
    pub postal_code: Option<String>,
    pub city: Option<String>,
    pub vat_number: Option<Option<String>>,
    pub require_two_factor: Option<bool>,
    pub default_payment_method: Option<Option<String>>,
    pub updated_at: Option<NaiveDateTime>,
}

pub fn insert(conn: &mut DbConnection, org: &Organization) -> QueryResult<usize> {
    diesel::insert_into(organizations::table)
        .values(org)
        .execute(conn)
}

/// A live (not deleted) organisation.
pub fn find(conn: &mut DbConnection, id: &str) -> QueryResult<Option<Organization>> {
    organizations::table
        .find(id)
        .filter(organizations::deleted_at.is_null())
        .select(Organization::as_select())
        .first(conn)
        .optional()
}

/// An organisation, deleted or not (until it is purged): its documents and the mails about
/// them outlive the deletion (R22: paid invoices mailed during the deletion steps).
pub fn find_any(conn: &mut DbConnection, id: &str) -> QueryResult<Option<Organization>> {
    organizations::table
        .find(id)
        .select(Organization::as_select())
        .first(conn)
        .optional()
}

/// The concurrency rule (docs/decisions.md): a write transaction that reads an organisation's
/// state to decide anything takes the organisation's row lock first, so two such transactions on
/// PostgreSQL queue instead of both acting on what they read. SQLite's `BEGIN IMMEDIATE` already
/// serialises every writer, so there it is a no-op. Returns whether the organisation exists
/// (deleted ones included: the caller decides what a deleted one means).
pub fn lock(conn: &mut DbConnection, id: &str) -> QueryResult<bool> {
    match conn {
        DbConnection::Postgresql(c) => Ok(organizations::table
            .find(id)
            .select(organizations::id)
            .for_update()
            .first::<String>(c)
            .optional()?
            .is_some()),
        DbConnection::Sqlite(_) => Ok(true),
    }
}

pub fn update(
    conn: &mut DbConnection,
    id: &str,
    change: &OrganizationChange,
) -> QueryResult<usize> {
    diesel::update(organizations::table.find(id))
        .set(change)
        .execute(conn)
}

/// Marks the organisation deleted, to be kept read-only until `retain_until`.
pub fn mark_deleted(
    conn: &mut DbConnection,
    id: &str,
    now: NaiveDateTime,
    retain_until: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        organizations::table
            .find(id)
            .filter(organizations::deleted_at.is_null()),
    )
    .set((
        organizations::deleted_at.eq(Some(now)),
        organizations::retain_until.eq(Some(retain_until)),
        organizations::updated_at.eq(now),
    ))
    .execute(conn)
}

/// Live organisations the user belongs to that require two-factor authentication.
pub fn requiring_two_factor_for(
    conn: &mut DbConnection,
    user_id: &str,
) -> QueryResult<Vec<String>> {
    memberships::table
        .inner_join(organizations::table)
        .filter(memberships::user_id.eq(user_id))
        .filter(organizations::require_two_factor.eq(true))
        .filter(organizations::deleted_at.is_null())
        .select(organizations::name)
        .load(conn)
}

/// Whether a live organisation the `users` row belongs to requires 2FA (correlated `EXISTS`).
#[diesel::dsl::auto_type]
fn required_by_an_organization() -> _ {
    diesel::dsl::exists(
        memberships::table
            .inner_join(organizations::table)
            .filter(memberships::user_id.eq(users::id))
            .filter(organizations::require_two_factor.eq(true))
            .filter(organizations::deleted_at.is_null())
            .select(memberships::user_id),
    )
}

/// Recomputes `users.two_factor_required` of these users (after a membership changed).
pub fn refresh_two_factor_required(
    conn: &mut DbConnection,
    user_ids: &[String],
) -> QueryResult<usize> {
    diesel::update(users::table.filter(users::id.eq_any(user_ids)))
        .set(users::two_factor_required.eq(required_by_an_organization()))
        .execute(conn)
}

/// Recomputes `users.two_factor_required` of every member of the organisation (after its policy
/// changed or it was deleted).
pub fn refresh_two_factor_required_of_members(
    conn: &mut DbConnection,
    org_id: &str,
) -> QueryResult<usize> {
    let members: Vec<String> = memberships::table
        .filter(memberships::organization_id.eq(org_id))
        .select(memberships::user_id)
        .load(conn)?;
    refresh_two_factor_required(conn, &members)
}
