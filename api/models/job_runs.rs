//! A periodic job run once, now, by the operator (`leman jobs run KIND`): its row is inserted
//! already claimed by the command, so no runner takes it and its handler's `complete` works.

use diesel::prelude::*;

use crate::db::schema::jobs;
use crate::db::{self, DbConnection};
use crate::domain::account_states::JobState;
use crate::models::jobs::Job;

/// Inserts a `kind` job claimed by `token` for `lease_secs`; returns it.
pub fn insert_claimed(
    conn: &mut DbConnection,
    kind: &str,
    token: &str,
    lease_secs: i64,
) -> QueryResult<Job> {
    let now = db::now();
    let job = Job {
        id: db::new_id("job"),
        kind: kind.to_string(),
        payload: "{}".into(),
        status: JobState::Running,
        unique_key: None,
        attempts: 1,
        max_attempts: 1,
        run_at: now,
        locked_by: Some(token.to_string()),
        locked_until: Some(now + chrono::Duration::seconds(lease_secs)),
        last_error: None,
        created_at: now,
        updated_at: now,
    };
    diesel::insert_into(jobs::table)
        .values(job.clone())
        .execute(conn)?;
    Ok(job)
}
