//! Sessions (one per login on a device) and their rotating refresh tokens.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{refresh_tokens, sessions, users};
use crate::db::{self, DbConnection};
use crate::models::users::CallerUser;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = sessions)]
pub struct Session {
    pub id: String,
    pub user_id: String,
    pub amr: String,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub created_at: NaiveDateTime,
    pub last_seen_at: NaiveDateTime,
    pub refreshed_at: NaiveDateTime,
    pub authenticated_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub ended_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = refresh_tokens)]
pub struct RefreshToken {
    pub token_hash: String,
    pub session_id: String,
    pub created_at: NaiveDateTime,
    pub rotated_at: Option<NaiveDateTime>,
}

/// What every authenticated request needs, loaded in one indexed query.
#[derive(Debug, Clone, Queryable)]
pub struct SessionCaller {
    pub session_id: String,
    pub authenticated_at: NaiveDateTime,
    /// Last seen more than a minute ago: time to mark it seen again.
    pub stale: bool,
    /// An organisation of the user requires 2FA.
    pub two_factor_required: bool,
    pub user: CallerUser,
}

pub fn insert(conn: &mut DbConnection, session: &Session, refresh_hash: &str) -> QueryResult<()> {
    diesel::insert_into(sessions::table)
        .values(session)
        .execute(conn)?;
    diesel::insert_into(refresh_tokens::table)
        .values(RefreshToken {
            token_hash: refresh_hash.to_string(),
            session_id: session.id.clone(),
            created_at: session.created_at,
            rotated_at: None,
        })
        .execute(conn)?;
    Ok(())
}

/// The active session `sid` of user `sub`, with the user: `None` when it ended, expired, or the
/// account is gone.
pub fn active_caller(
    conn: &mut DbConnection,
    sid: &str,
    sub: &str,
) -> QueryResult<Option<SessionCaller>> {
    let now = db::now();
    let (now, a_minute_ago) = (
        db::SqlTime(now),
        db::SqlTime(now - chrono::Duration::minutes(1)),
    );
    macro_rules! query {
        () => {
            sessions::table
                .inner_join(users::table)
                .filter(sessions::id.eq(sid))
                .filter(sessions::user_id.eq(sub))
                .filter(sessions::ended_at.is_null())
                .filter(sessions::expires_at.gt(now))
                .filter(users::deleted_at.is_null())
                .select((
                    sessions::id,
                    sessions::authenticated_at,
                    sessions::last_seen_at.lt(a_minute_ago),
                    users::two_factor_required,
                    CallerUser::as_select(),
                ))
        };
    }
    // On every request: run on the engine's own connection, whose prepared-statement cache a
    // MultiConnection query does not reach (measured: the SQL was parsed on each call). One row
    // by primary key, so no `LIMIT ?`: SQLite 3.53 prepares a statement again on every run when
    // its bound LIMIT may steer the plan (callgrind: 60 % of `GET /v1/me`).
    match conn {
        DbConnection::Sqlite(c) => query!().get_result(c).optional(),
        DbConnection::Postgresql(c) => query!().get_result(c).optional(),
    }
}

/// Marks the session seen now; a no-op within a minute of the last mark (never a write per request).
pub fn touch(conn: &mut DbConnection, sid: &str, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(
        sessions::table
            .find(sid)
            .filter(sessions::last_seen_at.lt(now - chrono::Duration::minutes(1))),
    )
    .set(sessions::last_seen_at.eq(now))
    .execute(conn)
}

pub fn find(conn: &mut DbConnection, sid: &str) -> QueryResult<Option<Session>> {
    sessions::table
        .find(sid)
        .select(Session::as_select())
        .first(conn)
        .optional()
}

pub fn find_refresh(conn: &mut DbConnection, hash: &str) -> QueryResult<Option<RefreshToken>> {
    refresh_tokens::table
        .find(hash)
        .select(RefreshToken::as_select())
        .first(conn)
        .optional()
}

/// Replaces the current refresh token by a new one. False when `old_hash` was already rotated
/// (a concurrent refresh won).
pub fn rotate(
    conn: &mut DbConnection,
    session_id: &str,
    old_hash: &str,
    new_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let rotated = diesel::update(
        refresh_tokens::table
            .find(old_hash)
            .filter(refresh_tokens::rotated_at.is_null()),
    )
    .set(refresh_tokens::rotated_at.eq(Some(now)))
    .execute(conn)?;
    if rotated != 1 {
        return Ok(false);
    }
    diesel::insert_into(refresh_tokens::table)
        .values(RefreshToken {
            token_hash: new_hash.to_string(),
            session_id: session_id.to_string(),
            created_at: now,
            rotated_at: None,
        })
        .execute(conn)?;
    diesel::update(sessions::table.find(session_id))
        .set((
            sessions::refreshed_at.eq(now),
            sessions::last_seen_at.eq(now),
        ))
        .execute(conn)?;
    Ok(true)
}

pub fn end(conn: &mut DbConnection, sid: &str, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(
        sessions::table
            .find(sid)
            .filter(sessions::ended_at.is_null()),
    )
    .set(sessions::ended_at.eq(Some(now)))
    .execute(conn)
}

/// Ends every active session of the user except `keep`.
pub fn end_all_for_user(
    conn: &mut DbConnection,
    user_id: &str,
    keep: Option<&str>,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    let query = sessions::table
        .filter(sessions::user_id.eq(user_id))
        .filter(sessions::ended_at.is_null());
    match keep {
        Some(keep) => diesel::update(query.filter(sessions::id.ne(keep)))
            .set(sessions::ended_at.eq(Some(now)))
            .execute(conn),
        None => diesel::update(query)
            .set(sessions::ended_at.eq(Some(now)))
            .execute(conn),
    }
}

/// The ids of the active sessions (of one user, or of everyone), oldest first.
pub fn active_ids(
    conn: &mut DbConnection,
    user_id: Option<&str>,
) -> QueryResult<Vec<(String, String)>> {
    let mut query = sessions::table
        .filter(sessions::ended_at.is_null())
        .filter(sessions::expires_at.gt(db::now()))
        .order((sessions::created_at.asc(), sessions::id.asc()))
        .select((sessions::id, sessions::user_id))
        .into_boxed();
    if let Some(user_id) = user_id {
        query = query.filter(sessions::user_id.eq(user_id.to_string()));
    }
    query.load(conn)
}

/// The user's active sessions, newest first.
pub fn list_active(conn: &mut DbConnection, user_id: &str) -> QueryResult<Vec<Session>> {
    sessions::table
        .filter(sessions::user_id.eq(user_id))
        .filter(sessions::ended_at.is_null())
        .filter(sessions::expires_at.gt(db::now()))
        .order(sessions::created_at.desc())
        .select(Session::as_select())
        .load(conn)
}

pub fn set_reauthenticated(
    conn: &mut DbConnection,
    sid: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(sessions::table.find(sid))
        .set(sessions::authenticated_at.eq(now))
        .execute(conn)
}
