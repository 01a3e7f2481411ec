//! Two-factor recovery codes: ten per user, each stored as a SHA-256 and usable once.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::recovery_codes;
use crate::db::{self, DbConnection};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = recovery_codes)]
pub struct RecoveryCode {
    pub id: String,
    pub user_id: String,
    pub code_hash: String,
    pub used_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

/// Replaces every code of the user by the given hashes.
pub fn replace_all(
    conn: &mut DbConnection,
    user_id: &str,
    hashes: &[String],
    now: NaiveDateTime,
) -> QueryResult<()> {
    delete_all(conn, user_id)?;
    // One statement per row: batch inserts do not compile over the multi-backend connection.
    for hash in hashes {
        diesel::insert_into(recovery_codes::table)
            .values(RecoveryCode {
                id: db::new_id("rec"),
                user_id: user_id.to_string(),
                code_hash: hash.clone(),
                used_at: None,
                created_at: now,
            })
            .execute(conn)?;
    }
    Ok(())
}

pub fn delete_all(conn: &mut DbConnection, user_id: &str) -> QueryResult<usize> {
    diesel::delete(recovery_codes::table.filter(recovery_codes::user_id.eq(user_id))).execute(conn)
}

/// Marks the unused code with this hash as used. False when there is none (wrong code, or
/// already used, possibly by a concurrent request).
pub fn consume(
    conn: &mut DbConnection,
    user_id: &str,
    hash: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    diesel::update(
        recovery_codes::table
            .filter(recovery_codes::user_id.eq(user_id))
            .filter(recovery_codes::code_hash.eq(hash))
            .filter(recovery_codes::used_at.is_null()),
    )
    .set(recovery_codes::used_at.eq(Some(now)))
    .execute(conn)
    .map(|n| n >= 1)
}
