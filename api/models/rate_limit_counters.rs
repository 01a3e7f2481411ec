//! Shared sign-in rate limits (PostgreSQL): a GCRA per key, decided and recorded by one atomic
//! upsert, so instances on one database share each allowance.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Text, Timestamp};

use crate::db::DbConnection;
use crate::db::schema::rate_limit_counters;

#[derive(QueryableByName)]
struct Verdict {
    #[diesel(sql_type = Bool)]
    allowed: bool,
    #[diesel(sql_type = Timestamp)]
    tat: NaiveDateTime,
}

/// One attempt of `key` at `now`, with `interval` between attempts and `burst` the tolerance
/// (both microseconds): `Ok(None)` when allowed, `Ok(Some(t))` when refused until `t`.
/// PostgreSQL only (SQLite counts in memory).
pub fn attempt(
    conn: &mut DbConnection,
    key: &str,
    now: NaiveDateTime,
    interval: i64,
    burst: i64,
) -> QueryResult<Option<NaiveDateTime>> {
    // In `DO UPDATE`, both expressions read the row as it was: the verdict and the new arrival
    // time agree.
    let v = diesel::sql_query(
        "INSERT INTO rate_limit_counters (key, tat, allowed) \
         VALUES ($1, $2 + $3 * interval '1 microsecond', true) \
         ON CONFLICT (key) DO UPDATE SET \
         allowed = GREATEST(rate_limit_counters.tat, $2) - $2 <= $4 * interval '1 microsecond', \
         tat = CASE WHEN GREATEST(rate_limit_counters.tat, $2) - $2 <= $4 * interval '1 microsecond' \
               THEN GREATEST(rate_limit_counters.tat, $2) + $3 * interval '1 microsecond' \
               ELSE rate_limit_counters.tat END \
         RETURNING allowed, tat",
    )
    .bind::<Text, _>(key)
    .bind::<Timestamp, _>(now)
    .bind::<BigInt, _>(interval)
    .bind::<BigInt, _>(burst)
    .get_result::<Verdict>(conn)?;
    Ok(if v.allowed {
        None
    } else {
        Some(v.tat - chrono::Duration::microseconds(burst))
    })
}

/// Drops keys whose arrival time has passed (they are as good as new).
pub fn sweep(conn: &mut DbConnection, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(rate_limit_counters::table.filter(rate_limit_counters::tat.lt(now)))
        .execute(conn)
}
