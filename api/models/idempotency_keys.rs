//! Idempotency keys: one row per (caller, route, key), first in flight, then holding the stored
//! response that retries replay.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error};

use crate::db::schema::idempotency_keys as keys;
use crate::db::{self, DbConnection};

pub use crate::domain::account_states::IdempotencyState;
/// A request in flight longer than this is taken to have died (its process crashed).
pub const ABANDONED_AFTER_SECS: i64 = 300;
pub const TTL_HOURS: i64 = 24;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = keys)]
pub struct IdempotencyKey {
    pub id: String,
    pub caller: String,
    pub route: String,
    pub idem_key: String,
    pub request_hash: String,
    #[diesel(deserialize_as = String, serialize_as = String)]
    pub status: IdempotencyState,
    pub response_status: Option<i32>,
    pub response_content_type: Option<String>,
    pub response_body: Option<String>,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
}

#[derive(Debug)]
pub enum Begin {
    /// First use: the request runs; the row `id` awaits its response.
    Proceed(String),
    /// Seen before with the same body: replay this response.
    Replay {
        status: u16,
        content_type: Option<String>,
        body: String,
    },
    /// Seen before with another body.
    Mismatch,
    /// The first request with this key is still running.
    InFlight,
    /// The first request with this key changed something, then its process died before the
    /// answer was stored: it is not run again, and its answer is lost.
    Lost,
}

pub fn begin(
    conn: &mut DbConnection,
    caller: &str,
    route: &str,
    key: &str,
    hash: &str,
) -> QueryResult<Begin> {
    db::write(conn, |conn| {
        let now = db::now();
        let existing = keys::table
            .filter(
                keys::caller
                    .eq(caller)
                    .and(keys::route.eq(route))
                    .and(keys::idem_key.eq(key)),
            )
            .select(IdempotencyKey::as_select())
            .first(conn)
            .optional()?;
        if let Some(row) = existing {
            let expired = row.expires_at <= now;
            let stale = row.created_at + chrono::Duration::seconds(ABANDONED_AFTER_SECS) <= now;
            // A request that committed its change and died before answering: running it again
            // would act twice, so the key stays spent (its answer is lost).
            if !expired && stale && row.status == IdempotencyState::Committed {
                return Ok(if row.request_hash != hash {
                    Begin::Mismatch
                } else {
                    Begin::Lost
                });
            }
            let abandoned = row.status == IdempotencyState::InFlight && stale;
            if !(expired || abandoned) {
                if row.request_hash != hash {
                    return Ok(Begin::Mismatch);
                }
                return Ok(match (row.status, row.response_status, row.response_body) {
                    (IdempotencyState::Done, Some(status), Some(body)) => Begin::Replay {
                        status: status as u16,
                        content_type: row.response_content_type,
                        body,
                    },
                    _ => Begin::InFlight,
                });
            }
            diesel::delete(keys::table.find(&row.id)).execute(conn)?;
        }
        let row = IdempotencyKey {
            id: db::new_id("idk"),
            caller: caller.to_string(),
            route: route.to_string(),
            idem_key: key.to_string(),
            request_hash: hash.to_string(),
            status: IdempotencyState::InFlight,
            response_status: None,
            response_content_type: None,
            response_body: None,
            created_at: now,
            expires_at: now + chrono::Duration::hours(TTL_HOURS),
        };
        match db::write(conn, |c| {
            diesel::insert_into(keys::table)
                .values(row.clone())
                .execute(c)
        }) {
            Ok(_) => Ok(Begin::Proceed(row.id)),
            // Another instance inserted the same key between our read and our write.
            Err(Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => Ok(Begin::InFlight),
            Err(e) => Err(e),
        }
    })
}

/// Stores the answer of the key's request (it is replayed from now on).
pub fn complete(
    conn: &mut DbConnection,
    id: &str,
    status: u16,
    content_type: Option<&str>,
    body: &str,
) -> QueryResult<usize> {
    let states = [IdempotencyState::InFlight, IdempotencyState::Committed];
    store_answer(conn, id, &states, status, content_type, body)
}

/// Sets the answer of the key `id` while it is in one of `states`.
fn store_answer(
    conn: &mut DbConnection,
    id: &str,
    states: &[IdempotencyState],
    status: u16,
    content_type: Option<&str>,
    body: &str,
) -> QueryResult<usize> {
    let states: Vec<&str> = states.iter().map(|s| s.as_str()).collect();
    db::write(conn, |conn| {
        diesel::update(keys::table.find(id).filter(keys::status.eq_any(states)))
            .set((
                keys::status.eq(IdempotencyState::Done.as_str()),
                keys::response_status.eq(Some(status as i32)),
                keys::response_content_type.eq(content_type),
                keys::response_body.eq(Some(body)),
            ))
            .execute(conn)
    })
}

/// Frees a key whose request changed nothing (its answer is not kept: a validation error, a
/// conflict, a 5xx). A key whose request committed a change stays: `complete_committed` keeps
/// its answer, or (a secret shown once, a lost body) it stays spent.
pub fn release(conn: &mut DbConnection, id: &str) -> QueryResult<usize> {
    db::write(conn, |conn| {
        diesel::delete(keys::table.find(id))
            .filter(keys::status.eq(IdempotencyState::InFlight.as_str()))
            .execute(conn)
    })
}

/// Keeps the answer of a request that committed a change even though it is an answer not
/// normally kept (a 5xx after a first transaction, a 409…): a retry replays it instead of
/// acting again. Does nothing to a key whose request changed nothing.
pub fn complete_committed(
    conn: &mut DbConnection,
    id: &str,
    status: u16,
    content_type: Option<&str>,
    body: &str,
) -> QueryResult<usize> {
    let states = [IdempotencyState::Committed];
    store_answer(conn, id, &states, status, content_type, body)
}

pub fn purge_expired(conn: &mut DbConnection, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(keys::table.filter(keys::expires_at.le(now))).execute(conn)
}

/// Forgets every stored answer of these callers (an erased account's answers are personal data).
pub fn forget_callers(conn: &mut DbConnection, callers: &[String]) -> QueryResult<usize> {
    diesel::delete(keys::table.filter(keys::caller.eq_any(callers))).execute(conn)
}
