//! Pending changes of a domain's owner (migration `000020_domain_owner_changes`): applied once
//! the current owner and the new one both confirmed through their mailed links, whose tokens are
//! kept only as hashes.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::db::schema::domain_owner_changes as changes;
pub use crate::domain::domain_owner_changes::OwnerChangeStatus;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = changes, treat_none_as_null = true)]
pub struct OwnerChange {
    pub id: String,
    pub domain_id: String,
    pub organization_id: String,
    pub requested_by: String,
    pub contacts: String,
    pub old_owner_email: String,
    pub new_owner_email: String,
    pub old_token_hash: String,
    pub new_token_hash: String,
    pub old_confirmed_at: Option<NaiveDateTime>,
    pub new_confirmed_at: Option<NaiveDateTime>,
    #[diesel(deserialize_as = String, serialize_as = String)]
    pub status: OwnerChangeStatus,
    pub expires_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// The hash a link's token is kept as.
pub fn token_hash(secret: &str) -> String {
    crate::auth::secrets::hash(&format!("leman:domain-owner-change:{secret}"))
}

pub fn insert(conn: &mut DbConnection, c: &OwnerChange) -> QueryResult<usize> {
    diesel::insert_into(changes::table)
        .values(c.clone())
        .execute(conn)
}

/// Marks a domain's pending changes `replaced`.
pub fn replace_pending(
    conn: &mut DbConnection,
    domain_id: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        changes::table
            .filter(changes::domain_id.eq(domain_id))
            .filter(changes::status.eq(OwnerChangeStatus::Pending.as_str())),
    )
    .set((
        changes::status.eq(OwnerChangeStatus::Replaced.as_str()),
        changes::updated_at.eq(now),
    ))
    .execute(conn)
}

/// The change one of whose tokens is `secret`.
pub fn find_by_token(conn: &mut DbConnection, secret: &str) -> QueryResult<Option<OwnerChange>> {
    let hash = token_hash(secret);
    changes::table
        .filter(
            changes::old_token_hash
                .eq(hash.clone())
                .or(changes::new_token_hash.eq(hash)),
        )
        .select(OwnerChange::as_select())
        .first(conn)
        .optional()
}

/// Writes back a change read as `expected_status` (compare-and-set on the status and
/// `updated_at`).
pub fn save(conn: &mut DbConnection, c: &OwnerChange, read_at: NaiveDateTime) -> QueryResult<bool> {
    let n = diesel::update(
        changes::table
            .find(&c.id)
            .filter(changes::updated_at.eq(read_at)),
    )
    .set(c.clone())
    .execute(conn)?;
    Ok(n == 1)
}
