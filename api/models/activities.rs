//! The activity record: one row per state change. IP, user agent and names sit in their own
//! columns so they can be erased without touching the rest.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::db::schema::{activities, activity_chains};

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
    /// The hash chain the record belongs to (an organisation, or one user outside any).
    pub chain_id: Option<String>,
    /// Position in its chain, from 1.
    pub seq: Option<i64>,
    /// Digests of the actor's and subject's ids at write time: they survive pseudonymisation.
    pub actor_digest: Option<String>,
    pub subject_digest: Option<String>,
    /// The previous record's `hash` ("" for the first).
    pub prev_hash: Option<String>,
    /// SHA-256 of the previous hash and this record's canonical content.
    pub hash: Option<String>,
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
    /// Records done by one of these users.
    pub actors: Vec<String>,
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
enum Side<'a> {
    Actor(&'a str),
    Subject(&'a str),
    Organization(&'a str),
}

/// One side of the user's records (as actor, or as subject), newest first: a range scan of
/// `activities_actor_idx` or `activities_subject_idx` (user, created_at) that stops after `limit`.
fn side_page(
    conn: &mut DbConnection,
    side: Side<'_>,
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
        Side::Actor(user_id) => query.filter(activities::actor_user_id.eq(user_id)),
        Side::Subject(user_id) => query.filter(activities::subject_user_id.eq(user_id)),
        Side::Organization(org_id) => query.filter(activities::organization_id.eq(org_id)),
    };
    if !filter.actors.is_empty() {
        query = query.filter(activities::actor_user_id.eq_any(filter.actors.clone()));
    }
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
    let mut rows = side_page(conn, Side::Actor(user_id), filter, cursor.as_ref(), limit)?;
    rows.extend(side_page(
        conn,
        Side::Subject(user_id),
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

/// What happened in an organisation, filtered, newest first, after the keyset `cursor`: a range
/// scan of `activities_org_idx` (organization_id, created_at).
pub fn page_for_organization(
    conn: &mut DbConnection,
    org_id: &str,
    filter: &ActivityFilter,
    cursor: Option<(NaiveDateTime, String)>,
    limit: i64,
) -> QueryResult<Vec<Activity>> {
    side_page(
        conn,
        Side::Organization(org_id),
        filter,
        cursor.as_ref(),
        limit,
    )
}

/// Takes the next position in `chain`: returns (its sequence number, the previous record's
/// hash). The head row is updated first, which locks it until the transaction ends, so two
/// concurrent writers cannot both link to the same record (SQLite writers are serialised anyway).
pub fn advance_chain(conn: &mut DbConnection, chain: &str) -> QueryResult<(i64, String)> {
    diesel::sql_query(
        "INSERT INTO activity_chains (id, last_seq, last_hash) VALUES ($1, 0, '') ON CONFLICT (id) DO NOTHING",
    )
    .bind::<diesel::sql_types::Text, _>(chain)
    .execute(conn)?;
    diesel::update(activity_chains::table.find(chain))
        .set(activity_chains::last_seq.eq(activity_chains::last_seq + 1))
        .execute(conn)?;
    activity_chains::table
        .find(chain)
        .select((activity_chains::last_seq, activity_chains::last_hash))
        .first(conn)
}

/// Records the hash of the chain's newest record on its head.
pub fn set_chain_head(conn: &mut DbConnection, chain: &str, hash: &str) -> QueryResult<usize> {
    diesel::update(activity_chains::table.find(chain))
        .set(activity_chains::last_hash.eq(hash))
        .execute(conn)
}

/// A chain's head: (last sequence number, last hash).
pub fn chain_head(conn: &mut DbConnection, chain: &str) -> QueryResult<Option<(i64, String)>> {
    activity_chains::table
        .find(chain)
        .select((activity_chains::last_seq, activity_chains::last_hash))
        .first(conn)
        .optional()
}

/// Every chain's id, in order.
pub fn chain_ids(conn: &mut DbConnection) -> QueryResult<Vec<String>> {
    activity_chains::table
        .select(activity_chains::id)
        .order(activity_chains::id)
        .load(conn)
}

/// Up to `limit` records of a chain after position `after_seq`, in chain order.
pub fn chain_records(
    conn: &mut DbConnection,
    chain: &str,
    after_seq: i64,
    limit: i64,
) -> QueryResult<Vec<Activity>> {
    activities::table
        .filter(activities::chain_id.eq(chain))
        .filter(activities::seq.gt(after_seq))
        .order(activities::seq)
        .limit(limit)
        .select(Activity::as_select())
        .load(conn)
}
