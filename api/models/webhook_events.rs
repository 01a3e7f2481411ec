//! Payment provider events already handled, by their id: a replayed event changes nothing.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConnection;

/// Records the event; false when it was handled before. A concurrent delivery of the same
/// event waits for the first one's transaction, then finds it recorded.
pub fn record(
    conn: &mut DbConnection,
    id: &str,
    event_type: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let inserted = diesel::sql_query(
        "INSERT INTO webhook_events (id, event_type, received_at) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING",
    )
    .bind::<diesel::sql_types::Text, _>(id)
    .bind::<diesel::sql_types::Text, _>(event_type)
    .bind::<diesel::sql_types::Timestamp, _>(now)
    .execute(conn)?;
    Ok(inserted == 1)
}
