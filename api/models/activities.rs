//! The activity record: one row per state change. IP, user agent and names sit in their own
//! columns so they can be erased without touching the rest.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::db::schema::activities;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = activities)]
pub struct Activity {
    pub id: String,
    pub actor_user_id: Option<String>,
    pub subject_user_id: Option<String>,
    pub organization_id: Option<String>,
    pub product_id: Option<String>,
    pub action: String,
    pub details: String,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub actor_name: Option<String>,
    pub created_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConnection, activity: &Activity) -> QueryResult<usize> {
    diesel::insert_into(activities::table)
        .values(activity)
        .execute(conn)
}

/// What the user did or was subject to, newest first, after the keyset `cursor` (created_at, id).
pub fn for_user(
    conn: &mut DbConnection,
    user_id: &str,
    cursor: Option<(NaiveDateTime, String)>,
    limit: i64,
) -> QueryResult<Vec<Activity>> {
    let mut query = activities::table
        .filter(
            activities::actor_user_id
                .eq(user_id)
                .or(activities::subject_user_id.eq(user_id)),
        )
        .select(Activity::as_select())
        .order((activities::created_at.desc(), activities::id.desc()))
        .limit(limit)
        .into_boxed();
    if let Some((at, id)) = cursor {
        query = query.filter(
            activities::created_at
                .lt(at)
                .or(activities::created_at.eq(at).and(activities::id.lt(id))),
        );
    }
    query.load(conn)
}

/// Erases the personal columns of a user's records and replaces their id by a pseudonym.
pub fn pseudonymise(conn: &mut DbConnection, user_id: &str, pseudonym: &str) -> QueryResult<usize> {
    let a = diesel::update(activities::table.filter(activities::actor_user_id.eq(user_id)))
        .set((
            activities::actor_user_id.eq(Some(pseudonym)),
            activities::ip.eq(None::<String>),
            activities::user_agent.eq(None::<String>),
            activities::actor_name.eq(None::<String>),
        ))
        .execute(conn)?;
    let b = diesel::update(activities::table.filter(activities::subject_user_id.eq(user_id)))
        .set(activities::subject_user_id.eq(Some(pseudonym)))
        .execute(conn)?;
    Ok(a + b)
}
