//! Memberships: who belongs to an organisation, with which role and permissions.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::db::schema::{memberships, organizations, users};
use crate::domain::orgs::{Grant, Permissions, Role};
use crate::models::organizations::Organization;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = memberships)]
pub struct Membership {
    pub organization_id: String,
    pub user_id: String,
    #[diesel(deserialize_as = String)]
    #[diesel(serialize_as = String)]
    pub role: Role,
    #[diesel(deserialize_as = String)]
    #[diesel(serialize_as = String)]
    pub permissions: Permissions,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl Membership {
    /// What the membership holds, as far as rights are concerned.
    pub fn grant(&self) -> Grant {
        Grant::new(self.role, &self.permissions)
    }
}

/// A member as the member list shows them.
#[derive(Debug, Clone, Queryable)]
pub struct MemberRow {
    pub membership: Membership,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub totp_enabled_at: Option<NaiveDateTime>,
    pub locked_at: Option<NaiveDateTime>,
    pub last_login_at: Option<NaiveDateTime>,
}

/// Narrows the member list. `None` means "no filter".
#[derive(Debug, Clone, Default)]
pub struct MemberFilter {
    pub two_factor_enabled: Option<bool>,
    /// Only these roles; empty: any.
    pub roles: Vec<Role>,
}

pub fn insert(conn: &mut DbConnection, m: &Membership) -> QueryResult<usize> {
    diesel::insert_into(memberships::table)
        .values(m.clone())
        .execute(conn)
}

/// The user's membership of a live organisation, with the organisation.
pub fn find_with_org(
    conn: &mut DbConnection,
    org_id: &str,
    user_id: &str,
) -> QueryResult<Option<(Membership, Organization)>> {
    macro_rules! query {
        () => {
            memberships::table
                .inner_join(organizations::table)
                .filter(memberships::organization_id.eq(org_id))
                .filter(memberships::user_id.eq(user_id))
                .filter(organizations::deleted_at.is_null())
                .select((Membership::as_select(), Organization::as_select()))
        };
    }
    // Every organisation route asks: on the engine's own connection, whose prepared-statement
    // cache the MultiConnection query misses (callgrind: prepared again on each request); one
    // row by primary key, so no `LIMIT ?` (see `sessions::active_caller`).
    match conn {
        DbConnection::Sqlite(c) => query!().get_result(c).optional(),
        DbConnection::Postgresql(c) => query!().get_result(c).optional(),
    }
}

pub fn find(
    conn: &mut DbConnection,
    org_id: &str,
    user_id: &str,
) -> QueryResult<Option<Membership>> {
    memberships::table
        .find((org_id, user_id))
        .select(Membership::as_select())
        .first(conn)
        .optional()
}

/// One member of the organisation, with their account.
pub fn find_member(
    conn: &mut DbConnection,
    org_id: &str,
    user_id: &str,
) -> QueryResult<Option<MemberRow>> {
    memberships::table
        .inner_join(users::table)
        .filter(memberships::organization_id.eq(org_id))
        .filter(memberships::user_id.eq(user_id))
        .select((
            Membership::as_select(),
            users::email,
            users::first_name,
            users::last_name,
            users::totp_enabled_at,
            users::locked_at,
            users::last_login_at,
        ))
        .first(conn)
        .optional()
}

/// The organisation's members, oldest first after the keyset `after` (created_at, user id).
pub fn page(
    conn: &mut DbConnection,
    org_id: &str,
    filter: &MemberFilter,
    after: Option<(NaiveDateTime, String)>,
    limit: i64,
) -> QueryResult<Vec<MemberRow>> {
    let mut query = memberships::table
        .inner_join(users::table)
        .filter(memberships::organization_id.eq(org_id))
        .select((
            Membership::as_select(),
            users::email,
            users::first_name,
            users::last_name,
            users::totp_enabled_at,
            users::locked_at,
            users::last_login_at,
        ))
        .order((memberships::created_at, memberships::user_id))
        .limit(limit)
        .into_boxed();
    match filter.two_factor_enabled {
        Some(true) => query = query.filter(users::totp_enabled_at.is_not_null()),
        Some(false) => query = query.filter(users::totp_enabled_at.is_null()),
        None => {}
    }
    if !filter.roles.is_empty() {
        let roles: Vec<&str> = filter.roles.iter().map(|r| r.as_str()).collect();
        query = query.filter(memberships::role.eq_any(roles));
    }
    if let Some((at, id)) = after {
        query = query.filter(
            memberships::created_at.ge(at).and(
                memberships::created_at
                    .gt(at)
                    .or(memberships::user_id.gt(id)),
            ),
        );
    }
    query.load(conn)
}

/// The user's live organisations with their memberships, oldest first after `after`.
pub fn page_for_user(
    conn: &mut DbConnection,
    user_id: &str,
    after: Option<(NaiveDateTime, String)>,
    limit: i64,
) -> QueryResult<Vec<(Membership, Organization)>> {
    let mut query = memberships::table
        .inner_join(organizations::table)
        .filter(memberships::user_id.eq(user_id))
        .filter(organizations::deleted_at.is_null())
        .select((Membership::as_select(), Organization::as_select()))
        .order((memberships::created_at, memberships::organization_id))
        .limit(limit)
        .into_boxed();
    if let Some((at, id)) = after {
        query = query.filter(
            memberships::created_at.ge(at).and(
                memberships::created_at
                    .gt(at)
                    .or(memberships::organization_id.gt(id)),
            ),
        );
    }
    query.load(conn)
}

/// Gives the member this grant (its role, and its permissions when a plain member).
pub fn set_grant(
    conn: &mut DbConnection,
    org_id: &str,
    user_id: &str,
    grant: &Grant,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(memberships::table.find((org_id, user_id)))
        .set((
            memberships::role.eq(grant.role.as_str()),
            memberships::permissions.eq(String::from(grant.stored_permissions())),
            memberships::updated_at.eq(now),
        ))
        .execute(conn)
}

pub fn delete(conn: &mut DbConnection, org_id: &str, user_id: &str) -> QueryResult<usize> {
    diesel::delete(memberships::table.find((org_id, user_id))).execute(conn)
}

/// How many members the organisation has, and how many of them are legal representatives.
pub fn count(conn: &mut DbConnection, org_id: &str) -> QueryResult<(i64, i64)> {
    let roles = roles_in(conn, &[org_id.to_string()])?;
    let legal = roles
        .iter()
        .filter(|(_, r)| *r == Role::LegalRepresentative)
        .count();
    Ok((roles.len() as i64, legal as i64))
}

/// Every member's role in these organisations: (organisation id, role).
fn roles_in(conn: &mut DbConnection, org_ids: &[String]) -> QueryResult<Vec<(String, Role)>> {
    let rows: Vec<(String, String)> = memberships::table
        .filter(memberships::organization_id.eq_any(org_ids))
        .select((memberships::organization_id, memberships::role))
        .load(conn)?;
    rows.into_iter()
        .map(|(org, role)| Ok((org, stored_role(role)?)))
        .collect()
}

/// A role read from its column (an unknown one is an error, as `deserialize_as` makes it).
fn stored_role(raw: String) -> QueryResult<Role> {
    Role::try_from(raw).map_err(|e| diesel::result::Error::DeserializationError(e.into()))
}

/// Members of the organisation without two-factor authentication: (user id, email, first name,
/// language).
pub fn without_two_factor(
    conn: &mut DbConnection,
    org_id: &str,
) -> QueryResult<Vec<(String, String, String, String)>> {
    memberships::table
        .inner_join(users::table)
        .filter(memberships::organization_id.eq(org_id))
        .filter(users::totp_enabled_at.is_null())
        .filter(users::deleted_at.is_null())
        .select((users::id, users::email, users::first_name, users::language))
        .load(conn)
}

/// A user's place in one organisation, and every member's role there.
#[derive(Debug, Clone)]
pub struct Standing {
    pub organization_id: String,
    pub role: Role,
    pub roles: Vec<Role>,
}

impl Standing {
    pub fn legal_representatives(&self) -> usize {
        self.roles
            .iter()
            .filter(|r| **r == Role::LegalRepresentative)
            .count()
    }
}

/// For each live organisation of the user: their role and every member's role. Two queries,
/// however many organisations.
pub fn standing_of(conn: &mut DbConnection, user_id: &str) -> QueryResult<Vec<Standing>> {
    let mine: Vec<(String, String)> = memberships::table
        .inner_join(organizations::table)
        .filter(memberships::user_id.eq(user_id))
        .filter(organizations::deleted_at.is_null())
        .select((organizations::id, memberships::role))
        .load(conn)?;
    let ids: Vec<String> = mine.iter().map(|m| m.0.clone()).collect();
    let all = roles_in(conn, &ids)?;
    mine.into_iter()
        .map(|(id, role)| {
            let roles = all
                .iter()
                .filter(|(o, _)| *o == id)
                .map(|(_, r)| *r)
                .collect();
            Ok(Standing {
                organization_id: id,
                role: stored_role(role)?,
                roles,
            })
        })
        .collect()
}

/// The organisations the user belongs to, by id (the order their locks are taken in).
pub fn organization_ids_of(conn: &mut DbConnection, user_id: &str) -> QueryResult<Vec<String>> {
    memberships::table
        .filter(memberships::user_id.eq(user_id))
        .select(memberships::organization_id)
        .order(memberships::organization_id.asc())
        .load(conn)
}

/// Removes every membership of a user (their account is being deleted).
pub fn delete_all_for_user(conn: &mut DbConnection, user_id: &str) -> QueryResult<usize> {
    diesel::delete(memberships::table.filter(memberships::user_id.eq(user_id))).execute(conn)
}
