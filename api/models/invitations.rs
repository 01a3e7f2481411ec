//! Invitations to join an organisation: a mailed link (its token stored hashed), valid 7 days,
//! accepted once by the account whose login is the invited address.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::db::schema::{invitations, organizations};
use crate::domain::orgs::{Grant, Permissions, Role};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = invitations)]
pub struct Invitation {
    pub id: String,
    pub organization_id: String,
    pub email: String,
    #[diesel(deserialize_as = String)]
    #[diesel(serialize_as = String)]
    pub role: Role,
    #[diesel(deserialize_as = String)]
    #[diesel(serialize_as = String)]
    pub permissions: Permissions,
    pub token_hash: String,
    pub invited_by: String,
    pub expires_at: NaiveDateTime,
    pub accepted_at: Option<NaiveDateTime>,
    pub accepted_by: Option<String>,
    pub revoked_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

impl Invitation {
    /// What accepting the invitation grants.
    pub fn grant(&self) -> Grant {
        Grant::new(self.role, &self.permissions)
    }
}

pub fn insert(conn: &mut DbConnection, i: &Invitation) -> QueryResult<usize> {
    diesel::insert_into(invitations::table)
        .values(i.clone())
        .execute(conn)
}

/// Pending (neither accepted, revoked nor expired) invitations of the organisation, newest first
/// after the keyset `before` (created_at, id).
pub fn pending_page(
    conn: &mut DbConnection,
    org_id: &str,
    now: NaiveDateTime,
    before: Option<(NaiveDateTime, String)>,
    limit: i64,
) -> QueryResult<Vec<Invitation>> {
    let mut query = invitations::table
        .filter(invitations::organization_id.eq(org_id))
        .filter(invitations::accepted_at.is_null())
        .filter(invitations::revoked_at.is_null())
        .filter(invitations::expires_at.gt(now))
        .select(Invitation::as_select())
        .order((invitations::created_at.desc(), invitations::id.desc()))
        .limit(limit)
        .into_boxed();
    if let Some((at, id)) = before {
        query = query.filter(
            invitations::created_at
                .le(at)
                .and(invitations::created_at.lt(at).or(invitations::id.lt(id))),
        );
    }
    query.load(conn)
}

/// A pending invitation of the organisation.
pub fn find_pending(
    conn: &mut DbConnection,
    org_id: &str,
    id: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<Invitation>> {
    invitations::table
        .find(id)
        .filter(invitations::organization_id.eq(org_id))
        .filter(invitations::accepted_at.is_null())
        .filter(invitations::revoked_at.is_null())
        .filter(invitations::expires_at.gt(now))
        .select(Invitation::as_select())
        .first(conn)
        .optional()
}

/// The pending invitation a token stands for, in a live organisation.
pub fn find_by_token(
    conn: &mut DbConnection,
    token_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<Invitation>> {
    invitations::table
        .inner_join(organizations::table)
        .filter(invitations::token_hash.eq(token_hash))
        .filter(invitations::accepted_at.is_null())
        .filter(invitations::revoked_at.is_null())
        .filter(invitations::expires_at.gt(now))
        .filter(organizations::deleted_at.is_null())
        .select(Invitation::as_select())
        .first(conn)
        .optional()
}

/// The organisation's live pending invitations to `email` (a new one would replace them).
pub fn pending_to(
    conn: &mut DbConnection,
    org_id: &str,
    email: &str,
    now: NaiveDateTime,
) -> QueryResult<Vec<Invitation>> {
    invitations::table
        .filter(invitations::organization_id.eq(org_id))
        .filter(invitations::email.eq(email))
        .filter(invitations::accepted_at.is_null())
        .filter(invitations::revoked_at.is_null())
        .filter(invitations::expires_at.gt(now))
        .select(Invitation::as_select())
        .load(conn)
}

/// The organisation's live pending invitations made by `inviter`.
pub fn pending_by(
    conn: &mut DbConnection,
    org_id: &str,
    inviter: &str,
    now: NaiveDateTime,
) -> QueryResult<Vec<Invitation>> {
    invitations::table
        .filter(invitations::organization_id.eq(org_id))
        .filter(invitations::invited_by.eq(inviter))
        .filter(invitations::accepted_at.is_null())
        .filter(invitations::revoked_at.is_null())
        .filter(invitations::expires_at.gt(now))
        .select(Invitation::as_select())
        .load(conn)
}

/// Revokes these invitations (those still pending); returns how many.
pub fn revoke_many(
    conn: &mut DbConnection,
    ids: &[String],
    now: NaiveDateTime,
) -> QueryResult<usize> {
    if ids.is_empty() {
        return Ok(0);
    }
    diesel::update(
        invitations::table
            .filter(invitations::id.eq_any(ids))
            .filter(invitations::accepted_at.is_null())
            .filter(invitations::revoked_at.is_null()),
    )
    .set(invitations::revoked_at.eq(Some(now)))
    .execute(conn)
}

/// Revokes every pending invitation a user made, in every organisation (their account is being
/// deleted).
pub fn revoke_all_by(
    conn: &mut DbConnection,
    inviter: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        invitations::table
            .filter(invitations::invited_by.eq(inviter))
            .filter(invitations::accepted_at.is_null())
            .filter(invitations::revoked_at.is_null()),
    )
    .set(invitations::revoked_at.eq(Some(now)))
    .execute(conn)
}

/// How many invitations the organisation made since `since`, and the oldest of them: to all
/// addresses, and to `email` (every one sent a mail, replaced or withdrawn ones included).
pub fn sent_since(
    conn: &mut DbConnection,
    org_id: &str,
    email: Option<&str>,
    since: NaiveDateTime,
) -> QueryResult<(i64, Option<NaiveDateTime>)> {
    let mut query = invitations::table
        .filter(invitations::organization_id.eq(org_id))
        .filter(invitations::created_at.gt(since))
        .select(invitations::created_at)
        .order(invitations::created_at.asc())
        .into_boxed();
    if let Some(email) = email {
        query = query.filter(invitations::email.eq(email));
    }
    let times: Vec<NaiveDateTime> = query.load(conn)?;
    Ok((times.len() as i64, times.first().copied()))
}

/// Revokes the organisation's pending invitations to `email` (a new one replaces them).
pub fn revoke_pending_to(
    conn: &mut DbConnection,
    org_id: &str,
    email: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        invitations::table
            .filter(invitations::organization_id.eq(org_id))
            .filter(invitations::email.eq(email))
            .filter(invitations::accepted_at.is_null())
            .filter(invitations::revoked_at.is_null()),
    )
    .set(invitations::revoked_at.eq(Some(now)))
    .execute(conn)
}

pub fn revoke(conn: &mut DbConnection, id: &str, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(
        invitations::table
            .find(id)
            .filter(invitations::revoked_at.is_null()),
    )
    .set(invitations::revoked_at.eq(Some(now)))
    .execute(conn)
}

/// Marks the invitation accepted; false when it was used in the meantime.
pub fn accept(
    conn: &mut DbConnection,
    id: &str,
    user_id: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let n = diesel::update(
        invitations::table
            .find(id)
            .filter(invitations::accepted_at.is_null())
            .filter(invitations::revoked_at.is_null()),
    )
    .set((
        invitations::accepted_at.eq(Some(now)),
        invitations::accepted_by.eq(Some(user_id)),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// How many pending invitations the organisation has.
pub fn count_pending(
    conn: &mut DbConnection,
    org_id: &str,
    now: NaiveDateTime,
) -> QueryResult<i64> {
    invitations::table
        .filter(invitations::organization_id.eq(org_id))
        .filter(invitations::accepted_at.is_null())
        .filter(invitations::revoked_at.is_null())
        .filter(invitations::expires_at.gt(now))
        .count()
        .get_result(conn)
}

/// Revokes every pending invitation to an address (its account is being deleted).
pub fn revoke_all_to(
    conn: &mut DbConnection,
    email: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        invitations::table
            .filter(invitations::email.eq(email))
            .filter(invitations::accepted_at.is_null())
            .filter(invitations::revoked_at.is_null()),
    )
    .set(invitations::revoked_at.eq(Some(now)))
    .execute(conn)
}
