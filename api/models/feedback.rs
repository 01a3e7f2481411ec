//! Feedback messages (R53): one row per message a signed-in person sent about a service.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::db::schema::{feedback, users};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = feedback)]
pub struct Feedback {
    pub id: String,
    pub user_id: String,
    pub service: String,
    pub language: String,
    pub message: String,
    pub created_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConnection, row: &Feedback) -> QueryResult<()> {
    diesel::insert_into(feedback::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

/// How many messages the user sent after `since`, and when the oldest of them was sent.
pub fn sent_since(
    conn: &mut DbConnection,
    user_id: &str,
    since: NaiveDateTime,
) -> QueryResult<(i64, Option<NaiveDateTime>)> {
    let count = feedback::table
        .filter(feedback::user_id.eq(user_id))
        .filter(feedback::created_at.gt(since))
        .count()
        .get_result::<i64>(conn)?;
    let oldest = feedback::table
        .filter(feedback::user_id.eq(user_id))
        .filter(feedback::created_at.gt(since))
        .select(diesel::dsl::min(feedback::created_at))
        .first::<Option<NaiveDateTime>>(conn)?;
    Ok((count, oldest))
}

/// A message as staff export it: with the sender's current login address (a deleted account's
/// is its tombstone).
#[derive(Debug, Clone, Queryable)]
pub struct Exported {
    pub id: String,
    pub created_at: NaiveDateTime,
    pub user_id: String,
    pub email: String,
    pub service: String,
    pub language: String,
    pub message: String,
}

/// Up to `limit` messages sent at or after `since`, in time order, after the position `after`
/// (the `(created_at, id)` of the last one of the previous page): a keyset page on
/// `feedback_created_idx`.
pub fn page_since(
    conn: &mut DbConnection,
    since: NaiveDateTime,
    after: Option<(NaiveDateTime, String)>,
    limit: i64,
) -> QueryResult<Vec<Exported>> {
    let mut query = feedback::table
        .inner_join(users::table)
        .filter(feedback::created_at.ge(since))
        .select((
            feedback::id,
            feedback::created_at,
            feedback::user_id,
            users::email,
            feedback::service,
            feedback::language,
            feedback::message,
        ))
        .order((feedback::created_at.asc(), feedback::id.asc()))
        .limit(limit)
        .into_boxed();
    if let Some((at, id)) = after {
        query = query.filter(
            feedback::created_at
                .gt(at)
                .or(feedback::created_at.eq(at).and(feedback::id.gt(id))),
        );
    }
    query.load(conn)
}
