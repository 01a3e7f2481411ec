//! A task's result file: its description (`task_files`: name, type, size, SHA-256, the download
//! token's hash, expiry) and its bytes in ordered chunks of at most 1 MiB (`task_file_chunks`),
//! so a file of any size is written and read one chunk at a time. The chunks are written while
//! the task runs; the description row comes with the task's success.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::db::schema::{task_file_chunks, task_files};

/// The largest chunk stored in one row.
pub const CHUNK_BYTES: usize = 1024 * 1024;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = task_files)]
pub struct TaskFile {
    pub task_id: String,
    pub filename: String,
    pub content_type: String,
    pub size_bytes: i64,
    /// Hex SHA-256 of the whole file.
    pub sha256: String,
    pub chunk_count: i32,
    /// Hex SHA-256 of the download token (the token itself is never stored).
    pub token_hash: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConnection, file: &TaskFile) -> QueryResult<usize> {
    diesel::insert_into(task_files::table)
        .values(file.clone())
        .execute(conn)
}

pub fn find(conn: &mut DbConnection, task_id: &str) -> QueryResult<Option<TaskFile>> {
    task_files::table
        .find(task_id)
        .select(TaskFile::as_select())
        .first(conn)
        .optional()
}

/// Stores chunk `seq` (0-based) of `task_id`'s file.
pub fn insert_chunk(
    conn: &mut DbConnection,
    task_id: &str,
    seq: i32,
    data: &[u8],
) -> QueryResult<usize> {
    diesel::insert_into(task_file_chunks::table)
        .values((
            task_file_chunks::task_id.eq(task_id),
            task_file_chunks::seq.eq(seq),
            task_file_chunks::data.eq(data),
        ))
        .execute(conn)
}

/// Chunk `seq` of `task_id`'s file (one row: at most [`CHUNK_BYTES`] in memory).
pub fn chunk(conn: &mut DbConnection, task_id: &str, seq: i32) -> QueryResult<Option<Vec<u8>>> {
    task_file_chunks::table
        .find((task_id, seq))
        .select(task_file_chunks::data)
        .first(conn)
        .optional()
}

/// Removes every chunk of `task_id` (a run started over, a failed task, an expired file).
pub fn delete_chunks(conn: &mut DbConnection, task_id: &str) -> QueryResult<usize> {
    diesel::delete(task_file_chunks::table.filter(task_file_chunks::task_id.eq(task_id)))
        .execute(conn)
}

/// Files expired by `now`, oldest first.
pub fn expired(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<String>> {
    task_files::table
        .filter(task_files::expires_at.le(now))
        .order((task_files::expires_at, task_files::task_id))
        .select(task_files::task_id)
        .limit(limit)
        .load(conn)
}

/// Removes `task_id`'s file: its chunks and its description.
pub fn delete(conn: &mut DbConnection, task_id: &str) -> QueryResult<()> {
    delete_chunks(conn, task_id)?;
    diesel::delete(task_files::table.find(task_id)).execute(conn)?;
    Ok(())
}

/// Removes the files and the tasks of the organisation `org_id` (its purge).
pub fn purge_organization(conn: &mut DbConnection, org_id: &str) -> QueryResult<()> {
    use crate::db::schema::tasks;
    let of_org = || {
        tasks::table
            .filter(tasks::organization_id.eq(org_id))
            .select(tasks::id)
    };
    diesel::delete(task_file_chunks::table.filter(task_file_chunks::task_id.eq_any(of_org())))
        .execute(conn)?;
    diesel::delete(task_files::table.filter(task_files::task_id.eq_any(of_org()))).execute(conn)?;
    diesel::delete(tasks::table.filter(tasks::organization_id.eq(org_id))).execute(conn)?;
    Ok(())
}
