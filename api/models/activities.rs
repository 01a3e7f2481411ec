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

#[diesel::declare_sql_function]
extern "SQL" {
    fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

/// Narrows a user's activity list (R13). Empty lists and `None` mean "no filter".
#[derive(Debug, Clone, Default)]
pub struct ActivityFilter {
    /// Records at or after this instant.
    pub from: Option<NaiveDateTime>,
    /// Records strictly before this instant.
    pub before: Option<NaiveDateTime>,
    /// Records with one of these actions.
    pub actions: Vec<String>,
    /// Records about one of these products.
    pub products: Vec<String>,
    /// Case-insensitive text to find in the action or the details.
    pub search: Option<String>,
}

/// A `LIKE` pattern matching `text` anywhere, with `%`, `_` and `\` taken literally.
fn contains_pattern(text: &str) -> String {
    let mut pattern = String::from("%");
    for c in text.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

#[derive(Clone, Copy)]
enum Side {
    Actor,
    Subject,
}

/// One side of the user's records (as actor, or as subject), newest first: a range scan of
/// `activities_actor_idx` or `activities_subject_idx` (user, created_at) that stops after `limit`.
fn side_page(
    conn: &mut DbConnection,
    side: Side,
    user_id: &str,
    filter: &ActivityFilter,
    cursor: Option<&(NaiveDateTime, String)>,
    limit: i64,
) -> QueryResult<Vec<Activity>> {
    let mut query = activities::table
        .select(Activity::as_select())
        .order((activities::created_at.desc(), activities::id.desc()))
        .limit(limit)
        .into_boxed();
    query = match side {
        Side::Actor => query.filter(activities::actor_user_id.eq(user_id)),
        Side::Subject => query.filter(activities::subject_user_id.eq(user_id)),
    };
    if let Some(from) = filter.from {
        query = query.filter(activities::created_at.ge(from));
    }
    if let Some(before) = filter.before {
        query = query.filter(activities::created_at.lt(before));
    }
    if !filter.actions.is_empty() {
        query = query.filter(activities::action.eq_any(filter.actions.clone()));
    }
    if !filter.products.is_empty() {
        query = query.filter(activities::product_id.eq_any(filter.products.clone()));
    }
    if let Some(search) = &filter.search {
        let pattern = contains_pattern(search);
        query = query.filter(
            lower(activities::action)
                .like(pattern.clone())
                .escape('\\')
                .or(lower(activities::details).like(pattern).escape('\\')),
        );
    }
    if let Some((at, id)) = cursor {
        // `created_at <= at` bounds the index range; the rest breaks ties on the id.
        query = query.filter(
            activities::created_at.le(*at).and(
                activities::created_at
                    .lt(*at)
                    .or(activities::id.lt(id.clone())),
            ),
        );
    }
    query.load(conn)
}

/// What the user did or was subject to, filtered, newest first, after the keyset `cursor`
/// (created_at, id). Each side is read through its own index and the two pages are merged, so a
/// page costs the same at the first record as at the millionth.
pub fn page_for_user(
    conn: &mut DbConnection,
    user_id: &str,
    filter: &ActivityFilter,
    cursor: Option<(NaiveDateTime, String)>,
    limit: i64,
) -> QueryResult<Vec<Activity>> {
    let mut rows = side_page(conn, Side::Actor, user_id, filter, cursor.as_ref(), limit)?;
    rows.extend(side_page(
        conn,
        Side::Subject,
        user_id,
        filter,
        cursor.as_ref(),
        limit,
    )?);
    rows.sort_by(|a, b| (b.created_at, &b.id).cmp(&(a.created_at, &a.id)));
    // A record of the user about themself is on both sides.
    rows.dedup_by(|a, b| a.id == b.id);
    rows.truncate(usize::try_from(limit).unwrap_or(0));
    Ok(rows)
}
