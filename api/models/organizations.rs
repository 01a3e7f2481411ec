//! Organisations: a space owning products, invoices and members. A deleted one is kept, read-only,
//! until `retain_until` (its invoices and activity must stay for the legal retention period).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::db::schema::{memberships, organizations};

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

/// For the caller's one query: true when the `users` row of the query has no 2FA while a live
/// organisation it belongs to requires it. A correlated `EXISTS` on `memberships_user_idx`,
/// evaluated only for users without 2FA.
pub fn two_factor_required() -> diesel::expression::SqlLiteral<diesel::sql_types::Bool> {
    diesel::dsl::sql::<diesel::sql_types::Bool>(
        "(users.totp_enabled_at IS NULL AND EXISTS (SELECT 1 FROM memberships m \
         INNER JOIN organizations o ON o.id = m.organization_id \
         WHERE m.user_id = users.id AND o.require_two_factor = TRUE AND o.deleted_at IS NULL))",
    )
}
