//! Personal and application tokens (`lmn_…`): stored hashed, with scopes.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{api_tokens, users};
use crate::db::{self, DbConnection};
use crate::models::users::CallerUser;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = api_tokens)]
pub struct ApiToken {
    pub id: String,
    pub user_id: String,
    pub name: String,
    pub kind: String,
    pub scopes: String,
    pub token_hash: String,
    pub prefix: String,
    pub expires_at: Option<NaiveDateTime>,
    pub last_used_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
}

/// What an authenticated request by token needs, in one indexed query.
#[derive(Debug, Clone, Queryable)]
pub struct TokenCaller {
    pub token_id: String,
    pub kind: String,
    pub scopes: String,
    pub last_used_at: Option<NaiveDateTime>,
    /// An organisation of the user requires 2FA.
    pub two_factor_required: bool,
    pub user: CallerUser,
}

pub fn active_caller(conn: &mut DbConnection, hash: &str) -> QueryResult<Option<TokenCaller>> {
    let now = db::SqlTime(db::now());
    macro_rules! query {
        () => {
            api_tokens::table
                .inner_join(users::table)
                .filter(api_tokens::token_hash.eq(hash))
                .filter(api_tokens::revoked_at.is_null())
                .filter(
                    api_tokens::expires_at
                        .is_null()
                        .or(api_tokens::expires_at.gt(now)),
                )
                .filter(users::deleted_at.is_null())
                .select((
                    api_tokens::id,
                    api_tokens::kind,
                    api_tokens::scopes,
                    api_tokens::last_used_at,
                    users::two_factor_required,
                    CallerUser::as_select(),
                ))
        };
    }
    // On every request: the engine's own connection caches the prepared statement, and one row
    // by a unique hash needs no `LIMIT ?` (see sessions::active_caller).
    match conn {
        DbConnection::Sqlite(c) => query!().get_result(c).optional(),
        DbConnection::Postgresql(c) => query!().get_result(c).optional(),
    }
}

/// Records use; a no-op within a minute of the last record.
pub fn touch(conn: &mut DbConnection, id: &str, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(
        api_tokens::table.find(id).filter(
            api_tokens::last_used_at
                .is_null()
                .or(api_tokens::last_used_at.lt(now - chrono::Duration::minutes(1))),
        ),
    )
    .set(api_tokens::last_used_at.eq(Some(now)))
    .execute(conn)
}

/// The user's tokens still working (not revoked, not expired), oldest first.
pub fn list_working(conn: &mut DbConnection, user_id: &str) -> QueryResult<Vec<ApiToken>> {
    let now = db::now();
    api_tokens::table
        .filter(api_tokens::user_id.eq(user_id))
        .filter(api_tokens::revoked_at.is_null())
        .filter(
            api_tokens::expires_at
                .is_null()
                .or(api_tokens::expires_at.gt(now)),
        )
        .order((api_tokens::created_at.asc(), api_tokens::id.asc()))
        .select(ApiToken::as_select())
        .load(conn)
}

/// Revokes every token of a user (account deletion, a password reset).
pub fn revoke_all_for_user(
    conn: &mut DbConnection,
    user_id: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        api_tokens::table
            .filter(api_tokens::user_id.eq(user_id))
            .filter(api_tokens::revoked_at.is_null()),
    )
    .set(api_tokens::revoked_at.eq(Some(now)))
    .execute(conn)
}

pub fn insert(conn: &mut DbConnection, token: &ApiToken) -> QueryResult<usize> {
    diesel::insert_into(api_tokens::table)
        .values(token)
        .execute(conn)
}

/// The user's tokens that are not revoked (expired ones included), newest first, after the
/// keyset `cursor` (created_at, id). Served by `api_tokens_user_idx` (user_id, created_at).
pub fn list_for_user(
    conn: &mut DbConnection,
    user_id: &str,
    cursor: Option<(NaiveDateTime, String)>,
    limit: i64,
) -> QueryResult<Vec<ApiToken>> {
    let mut query = api_tokens::table
        .filter(api_tokens::user_id.eq(user_id))
        .filter(api_tokens::revoked_at.is_null())
        .select(ApiToken::as_select())
        .order((api_tokens::created_at.desc(), api_tokens::id.desc()))
        .limit(limit)
        .into_boxed();
    if let Some((at, id)) = cursor {
        query = query.filter(
            api_tokens::created_at
                .le(at)
                .and(api_tokens::created_at.lt(at).or(api_tokens::id.lt(id))),
        );
    }
    query.load(conn)
}

/// Revokes one token of the user. Returns false when the user has no such unrevoked token.
pub fn revoke(
    conn: &mut DbConnection,
    user_id: &str,
    id: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    diesel::update(
        api_tokens::table
            .find(id)
            .filter(api_tokens::user_id.eq(user_id))
            .filter(api_tokens::revoked_at.is_null()),
    )
    .set(api_tokens::revoked_at.eq(Some(now)))
    .execute(conn)
    .map(|n| n == 1)
}

/// The hashes of every token of a user, revoked or not.
pub fn hashes_of(conn: &mut DbConnection, user_id: &str) -> QueryResult<Vec<String>> {
    api_tokens::table
        .filter(api_tokens::user_id.eq(user_id))
        .select(api_tokens::token_hash)
        .load(conn)
}
