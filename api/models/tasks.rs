//! Tasks: long work a request started (202 + `Location: /v1/tasks/{id}`) and a job carries out.
//! Only the requester reads a task; its state moves queued → running → succeeded | failed.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::db::schema::tasks;
use crate::domain::documents::{TaskKind, TaskStatus};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = tasks)]
pub struct Task {
    pub id: String,
    #[diesel(deserialize_as = String, serialize_as = String)]
    pub kind: TaskKind,
    pub user_id: String,
    pub organization_id: Option<String>,
    #[diesel(deserialize_as = String, serialize_as = String)]
    pub status: TaskStatus,
    /// The request as JSON.
    pub params: String,
    pub progress_done: i64,
    pub progress_total: Option<i64>,
    /// The typed result as JSON, once succeeded.
    pub result: Option<String>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub created_at: NaiveDateTime,
    pub started_at: Option<NaiveDateTime>,
    pub finished_at: Option<NaiveDateTime>,
    pub updated_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConnection, task: &Task) -> QueryResult<usize> {
    diesel::insert_into(tasks::table)
        .values(task.clone())
        .execute(conn)
}

/// A task by id, whoever asked for it (for the job that runs it).
pub fn find_any(conn: &mut DbConnection, id: &str) -> QueryResult<Option<Task>> {
    tasks::table
        .find(id)
        .select(Task::as_select())
        .first(conn)
        .optional()
}

/// `user_id`'s own task: another user's is not found.
pub fn find_for_user(
    conn: &mut DbConnection,
    user_id: &str,
    id: &str,
) -> QueryResult<Option<Task>> {
    tasks::table
        .find(id)
        .filter(tasks::user_id.eq(user_id))
        .select(Task::as_select())
        .first(conn)
        .optional()
}

/// Marks a queued task running (false when it was not queued).
pub fn start(conn: &mut DbConnection, id: &str, now: NaiveDateTime) -> QueryResult<bool> {
    diesel::update(tasks::table.find(id))
        .filter(tasks::status.eq(TaskStatus::Queued.as_str()))
        .set((
            tasks::status.eq(TaskStatus::Running.as_str()),
            tasks::started_at.eq(Some(now)),
            tasks::updated_at.eq(now),
        ))
        .execute(conn)
        .map(|n| n == 1)
}

/// Records progress of a running task.
pub fn progress(
    conn: &mut DbConnection,
    id: &str,
    done: i64,
    total: Option<i64>,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(tasks::table.find(id))
        .filter(tasks::status.eq(TaskStatus::Running.as_str()))
        .set((
            tasks::progress_done.eq(done),
            tasks::progress_total.eq(total),
            tasks::updated_at.eq(now),
        ))
        .execute(conn)
}

/// Ends an unfinished task as succeeded with `result` (JSON); false when it had already ended.
pub fn succeed(
    conn: &mut DbConnection,
    id: &str,
    result: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    diesel::update(tasks::table.find(id))
        .filter(tasks::status.eq_any([TaskStatus::Queued.as_str(), TaskStatus::Running.as_str()]))
        .set((
            tasks::status.eq(TaskStatus::Succeeded.as_str()),
            tasks::result.eq(Some(result)),
            tasks::finished_at.eq(Some(now)),
            tasks::updated_at.eq(now),
        ))
        .execute(conn)
        .map(|n| n == 1)
}

/// Ends an unfinished task as failed; false when it had already ended.
pub fn fail(
    conn: &mut DbConnection,
    id: &str,
    code: &str,
    message: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    diesel::update(tasks::table.find(id))
        .filter(tasks::status.eq_any([TaskStatus::Queued.as_str(), TaskStatus::Running.as_str()]))
        .set((
            tasks::status.eq(TaskStatus::Failed.as_str()),
            tasks::error_code.eq(Some(code)),
            tasks::error_message.eq(Some(message)),
            tasks::finished_at.eq(Some(now)),
            tasks::updated_at.eq(now),
        ))
        .execute(conn)
        .map(|n| n == 1)
}
