//! The durable job queue. A job is claimed by setting a lease (`locked_by`, `locked_until`);
//! on PostgreSQL the claim skips rows other instances hold (`FOR UPDATE SKIP LOCKED`), on SQLite
//! the claim runs under the single write lock. Completed jobs are deleted; dead ones stay.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error};

use crate::db::schema::jobs;
use crate::db::{self, DbConnection};

pub use crate::domain::account_states::JobState;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = jobs)]
pub struct Job {
    pub id: String,
    pub kind: String,
    pub payload: String,
    #[diesel(deserialize_as = String, serialize_as = String)]
    pub status: JobState,
    pub unique_key: Option<String>,
    pub attempts: i32,
    pub max_attempts: i32,
    pub run_at: NaiveDateTime,
    pub locked_by: Option<String>,
    pub locked_until: Option<NaiveDateTime>,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// What to enqueue. `unique_key` deduplicates: while a job with that key exists, another is not
/// added. `run_at` schedules it (default: now).
#[derive(Debug, Clone)]
pub struct NewJob {
    pub kind: String,
    pub payload: serde_json::Value,
    pub unique_key: Option<String>,
    pub run_at: Option<NaiveDateTime>,
    pub max_attempts: i32,
}

impl NewJob {
    pub fn new(kind: &str, payload: serde_json::Value, max_attempts: i32) -> Self {
        Self {
            kind: kind.to_string(),
            payload,
            unique_key: None,
            run_at: None,
            max_attempts,
        }
    }
}

/// Adds a job in the caller's transaction; `Ok(None)` when its unique key is already queued.
pub fn enqueue(conn: &mut DbConnection, new: NewJob) -> QueryResult<Option<String>> {
    let now = db::now();
    let job = Job {
        id: db::new_id("job"),
        kind: new.kind,
        payload: new.payload.to_string(),
        status: JobState::Pending,
        unique_key: new.unique_key,
        attempts: 0,
        max_attempts: new.max_attempts,
        run_at: new.run_at.map(db::truncate).unwrap_or(now),
        locked_by: None,
        locked_until: None,
        last_error: None,
        created_at: now,
        updated_at: now,
    };
    // A savepoint, so a duplicate key leaves the caller's transaction usable on PostgreSQL.
    let inserted = db::write(conn, |c| {
        diesel::insert_into(jobs::table)
            .values(job.clone())
            .execute(c)
    });
    match inserted {
        Ok(_) => Ok(Some(job.id)),
        Err(Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Claims the next due job (or one whose lease ran out), for `lease` seconds, as `token`.
pub fn claim(conn: &mut DbConnection, token: &str, lease_secs: i64) -> QueryResult<Option<Job>> {
    db::write(conn, |conn| {
        let now = db::now();
        let due = jobs::status
            .eq(JobState::Pending.as_str())
            .and(jobs::run_at.le(now))
            .or(jobs::status
                .eq(JobState::Running.as_str())
                .and(jobs::locked_until.lt(now)));
        let query = jobs::table
            .select(jobs::id)
            .filter(due)
            .order(jobs::run_at.asc())
            .limit(1);
        let id: Option<String> = match conn {
            DbConnection::Postgresql(pg) => {
                query.for_update().skip_locked().first(pg).optional()?
            }
            DbConnection::Sqlite(lite) => query.first(lite).optional()?,
        };
        let Some(id) = id else { return Ok(None) };
        diesel::update(jobs::table.find(&id))
            .set((
                jobs::status.eq(JobState::Running.as_str()),
                jobs::attempts.eq(jobs::attempts + 1),
                jobs::locked_by.eq(token),
                jobs::locked_until.eq(now + chrono::Duration::seconds(lease_secs)),
                jobs::updated_at.eq(now),
            ))
            .execute(conn)?;
        jobs::table
            .find(&id)
            .select(Job::as_select())
            .first(conn)
            .optional()
    })
}

/// Deletes a completed job, if this claim still owns it. Run it in the transaction of the job's
/// effects, so both commit or neither does.
pub fn finish(conn: &mut DbConnection, id: &str, token: &str) -> QueryResult<bool> {
    diesel::delete(jobs::table.find(id).filter(jobs::locked_by.eq(token)))
        .execute(conn)
        .map(|n| n == 1)
}

/// Puts a failed job back, to run again at `run_at`.
pub fn retry(
    conn: &mut DbConnection,
    id: &str,
    token: &str,
    error: &str,
    run_at: NaiveDateTime,
) -> QueryResult<bool> {
    db::write(conn, |conn| {
        diesel::update(jobs::table.find(id).filter(jobs::locked_by.eq(token)))
            .set((
                jobs::status.eq(JobState::Pending.as_str()),
                jobs::run_at.eq(db::truncate(run_at)),
                jobs::locked_by.eq(None::<String>),
                jobs::locked_until.eq(None::<NaiveDateTime>),
                jobs::last_error.eq(truncate_error(error)),
                jobs::updated_at.eq(db::now()),
            ))
            .execute(conn)
            .map(|n| n == 1)
    })
}

/// Gives up on a job after its last attempt. Its unique key is released so it can be queued anew.
pub fn bury(conn: &mut DbConnection, id: &str, token: &str, error: &str) -> QueryResult<bool> {
    diesel::update(jobs::table.find(id).filter(jobs::locked_by.eq(token)))
        .set((
            jobs::status.eq(JobState::Dead.as_str()),
            jobs::unique_key.eq(None::<String>),
            jobs::locked_by.eq(None::<String>),
            jobs::locked_until.eq(None::<NaiveDateTime>),
            jobs::last_error.eq(truncate_error(error)),
            jobs::updated_at.eq(db::now()),
        ))
        .execute(conn)
        .map(|n| n == 1)
}

pub fn find(conn: &mut DbConnection, id: &str) -> QueryResult<Option<Job>> {
    jobs::table
        .find(id)
        .select(Job::as_select())
        .first(conn)
        .optional()
}

/// Number of jobs per status.
pub fn counts(conn: &mut DbConnection) -> QueryResult<Vec<(JobState, i64)>> {
    let rows: Vec<(String, i64)> = jobs::table
        .group_by(jobs::status)
        .select((jobs::status, diesel::dsl::count_star()))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(s, n)| JobState::parse(&s).map(|s| (s, n)))
        .collect())
}

fn truncate_error(error: &str) -> String {
    error.chars().take(2000).collect()
}
