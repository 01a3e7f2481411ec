//! Which newsletter topics a user receives: one row per (user, topic).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::db::schema::{newsletter_subscriptions as subs, users};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = subs)]
pub struct Subscription {
    pub user_id: String,
    pub topic: String,
    pub created_at: NaiveDateTime,
}

/// The topics the user is subscribed to (in no particular order).
pub fn topics(conn: &mut DbConnection, user_id: &str) -> QueryResult<Vec<String>> {
    subs::table
        .filter(subs::user_id.eq(user_id))
        .select(subs::topic)
        .load(conn)
}

/// Makes the user's subscriptions exactly `topics`: topics kept keep their subscription date.
/// Returns the topics added and removed, or `None` when the account is gone.
pub fn replace(
    conn: &mut DbConnection,
    user_id: &str,
    topics: &[&str],
    now: NaiveDateTime,
) -> QueryResult<Option<(Vec<String>, Vec<String>)>> {
    // Two concurrent replacements of one user's set must not both insert the same topic: on
    // PostgreSQL the user's row is locked first (SQLite's write transaction already serialises).
    let live = users::table
        .find(user_id)
        .filter(users::deleted_at.is_null())
        .select(users::id);
    let found: Option<String> = match conn {
        DbConnection::Postgresql(c) => live.for_update().first(c).optional()?,
        DbConnection::Sqlite(c) => live.first(c).optional()?,
    };
    if found.is_none() {
        return Ok(None);
    }
    let current = self::topics(conn, user_id)?;
    let removed: Vec<String> = current
        .iter()
        .filter(|t| !topics.contains(&t.as_str()))
        .cloned()
        .collect();
    let added: Vec<String> = topics
        .iter()
        .filter(|t| !current.iter().any(|c| c == *t))
        .map(|t| t.to_string())
        .collect();
    if !removed.is_empty() {
        diesel::delete(
            subs::table
                .filter(subs::user_id.eq(user_id))
                .filter(subs::topic.eq_any(&removed)),
        )
        .execute(conn)?;
    }
    let rows: Vec<Subscription> = added
        .iter()
        .map(|topic| Subscription {
            user_id: user_id.to_string(),
            topic: topic.clone(),
            created_at: now,
        })
        .collect();
    for row in &rows {
        diesel::insert_into(subs::table).values(row).execute(conn)?;
    }
    Ok(Some((added, removed)))
}

/// Removes every subscription of the user (account deletion).
pub fn delete_all(conn: &mut DbConnection, user_id: &str) -> QueryResult<usize> {
    diesel::delete(subs::table.filter(subs::user_id.eq(user_id))).execute(conn)
}
