//! The webhook outbox: one row per event and endpoint, written in the transaction of the change
//! and sent by the `deliver_webhooks` job. A runner claims due rows with a lease
//! (`claimed_until`); on PostgreSQL the claim skips rows another instance holds
//! (`FOR UPDATE SKIP LOCKED`), on SQLite it runs under the single write lock.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::webhook_deliveries;
use crate::db::{self, DbConnection};

pub const PENDING: &str = "pending";
pub const SUCCEEDED: &str = "succeeded";
pub const FAILED: &str = "failed";

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = webhook_deliveries)]
pub struct WebhookDelivery {
    pub id: String,
    pub endpoint_id: String,
    pub organization_id: String,
    pub event_id: String,
    pub event_type: String,
    pub payload: String,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: Option<NaiveDateTime>,
    pub claimed_until: Option<NaiveDateTime>,
    pub last_attempt_at: Option<NaiveDateTime>,
    pub last_status_code: Option<i32>,
    pub last_duration_ms: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConnection, d: &WebhookDelivery) -> QueryResult<usize> {
    diesel::insert_into(webhook_deliveries::table)
        .values(d.clone())
        .execute(conn)
}

pub fn find(
    conn: &mut DbConnection,
    endpoint_id: &str,
    id: &str,
) -> QueryResult<Option<WebhookDelivery>> {
    webhook_deliveries::table
        .find(id)
        .filter(webhook_deliveries::endpoint_id.eq(endpoint_id))
        .select(WebhookDelivery::as_select())
        .first(conn)
        .optional()
}

/// An endpoint's deliveries, newest first after the keyset `after` (created_at, id).
pub fn page(
    conn: &mut DbConnection,
    endpoint_id: &str,
    after: Option<(NaiveDateTime, String)>,
    limit: i64,
) -> QueryResult<Vec<WebhookDelivery>> {
    let mut query = webhook_deliveries::table
        .filter(webhook_deliveries::endpoint_id.eq(endpoint_id))
        .select(WebhookDelivery::as_select())
        .order((
            webhook_deliveries::created_at.desc(),
            webhook_deliveries::id.desc(),
        ))
        .limit(limit)
        .into_boxed();
    if let Some((at, id)) = after {
        query = query.filter(
            webhook_deliveries::created_at.le(at).and(
                webhook_deliveries::created_at
                    .lt(at)
                    .or(webhook_deliveries::id.lt(id)),
            ),
        );
    }
    query.load(conn)
}

/// Claims up to `limit` deliveries due at `now` (pending, their next attempt due, no live
/// lease), leasing them until `lease_until`; in its own write transaction.
pub fn claim_due(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    lease_until: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<WebhookDelivery>> {
    db::write(conn, |conn| {
        let query = webhook_deliveries::table
            .select(webhook_deliveries::id)
            .filter(webhook_deliveries::status.eq(PENDING))
            .filter(webhook_deliveries::next_attempt_at.le(now))
            .filter(
                webhook_deliveries::claimed_until
                    .is_null()
                    .or(webhook_deliveries::claimed_until.lt(now)),
            )
            .order((
                webhook_deliveries::next_attempt_at.asc(),
                webhook_deliveries::id.asc(),
            ))
            .limit(limit);
        let ids: Vec<String> = match conn {
            DbConnection::Postgresql(pg) => query.for_update().skip_locked().load(pg)?,
            DbConnection::Sqlite(lite) => query.load(lite)?,
        };
        if ids.is_empty() {
            return Ok(vec![]);
        }
        diesel::update(webhook_deliveries::table.filter(webhook_deliveries::id.eq_any(&ids)))
            .set(webhook_deliveries::claimed_until.eq(Some(lease_until)))
            .execute(conn)?;
        webhook_deliveries::table
            .filter(webhook_deliveries::id.eq_any(&ids))
            .order((
                webhook_deliveries::next_attempt_at.asc(),
                webhook_deliveries::id.asc(),
            ))
            .select(WebhookDelivery::as_select())
            .load(conn)
    })
}

/// The outcome of one attempt.
pub struct Attempt<'a> {
    pub at: NaiveDateTime,
    pub status_code: Option<i32>,
    pub duration_ms: i64,
    pub error: Option<&'a str>,
    /// The status after it: succeeded, pending (with `next_attempt_at`) or failed.
    pub status: &'a str,
    pub next_attempt_at: Option<NaiveDateTime>,
}

/// Records an attempt and releases the lease.
pub fn record_attempt(conn: &mut DbConnection, id: &str, a: &Attempt<'_>) -> QueryResult<usize> {
    diesel::update(webhook_deliveries::table.find(id))
        .set((
            webhook_deliveries::attempts.eq(webhook_deliveries::attempts + 1),
            webhook_deliveries::status.eq(a.status),
            webhook_deliveries::next_attempt_at.eq(a.next_attempt_at),
            webhook_deliveries::claimed_until.eq(None::<NaiveDateTime>),
            webhook_deliveries::last_attempt_at.eq(Some(a.at)),
            webhook_deliveries::last_status_code.eq(a.status_code),
            webhook_deliveries::last_duration_ms.eq(Some(a.duration_ms)),
            webhook_deliveries::last_error.eq(a.error),
        ))
        .execute(conn)
}

/// Gives up a delivery without an attempt (its endpoint is gone or disabled).
pub fn abandon(conn: &mut DbConnection, id: &str, reason: &str) -> QueryResult<usize> {
    diesel::update(webhook_deliveries::table.find(id))
        .set((
            webhook_deliveries::status.eq(FAILED),
            webhook_deliveries::next_attempt_at.eq(None::<NaiveDateTime>),
            webhook_deliveries::claimed_until.eq(None::<NaiveDateTime>),
            webhook_deliveries::last_error.eq(Some(reason)),
        ))
        .execute(conn)
}

/// Queues a delivery again, due at `now` (the retry route).
pub fn requeue(conn: &mut DbConnection, id: &str, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(webhook_deliveries::table.find(id))
        .set((
            webhook_deliveries::status.eq(PENDING),
            webhook_deliveries::next_attempt_at.eq(Some(now)),
            webhook_deliveries::claimed_until.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)
}

/// Deletes up to `limit` finished deliveries (succeeded or given up) created before `cutoff`,
/// oldest first; returns how many.
pub fn purge_finished(
    conn: &mut DbConnection,
    cutoff: NaiveDateTime,
    limit: i64,
) -> QueryResult<usize> {
    let ids: Vec<String> = webhook_deliveries::table
        .filter(webhook_deliveries::created_at.lt(cutoff))
        .filter(webhook_deliveries::status.eq_any([SUCCEEDED, FAILED]))
        .order((
            webhook_deliveries::created_at.asc(),
            webhook_deliveries::id.asc(),
        ))
        .select(webhook_deliveries::id)
        .limit(limit)
        .load(conn)?;
    if ids.is_empty() {
        return Ok(0);
    }
    diesel::delete(webhook_deliveries::table.filter(webhook_deliveries::id.eq_any(&ids)))
        .execute(conn)
}
