//! Tasks (issue 13): long work a request starts (202 + `Location: /v1/tasks/{id}`) and a job
//! (`jobs::run_task`) carries out, read by its requester alone. A task that makes a file keeps
//! it in the database (`models::task_files`, chunks of 1 MiB) for [`FILE_DAYS`] days; it is
//! downloaded through a link mailed to the requester, whose token is a 256-bit random secret
//! stored only as its SHA-256, or by the requester signed in. A periodic job purges the expired
//! files.

use std::io::Write;

use chrono::NaiveDateTime;
use futures_util::Stream;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::auth::Caller;
use crate::auth::secrets;
use crate::db::{self, DbConnection, Pool};
use crate::domain::documents::{TaskKind, TaskStatus};
use crate::domain::orgs::{Need, Permission};
use crate::domain::scopes::Scope;
use crate::error::{AppError, Status};
use crate::models::memberships;
use crate::models::task_files::{self, CHUNK_BYTES, TaskFile};
use crate::models::tasks::{self, Task};

/// How long a task's file can be downloaded after the task finished.
pub const FILE_DAYS: i64 = 7;

/// What a task that made a file gives, stored as its `result` (JSON).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FileResult {
    pub filename: String,
    pub content_type: String,
    pub size_bytes: i64,
    /// How many documents the file holds (invoices: rows, or PDFs in the ZIP).
    pub count: i64,
    pub expires_at: NaiveDateTime,
}

impl FileResult {
    pub fn of(task: &Task) -> Option<FileResult> {
        task.result
            .as_deref()
            .and_then(|r| serde_json::from_str(r).ok())
    }
}

/// The path of a task's file, under the API's public address.
pub fn download_path(task_id: &str) -> String {
    format!("/v1/tasks/{task_id}/download")
}

fn no_such_task() -> AppError {
    AppError::not_found("No such task.")
}

/// The scope a token needs to read a task of `kind`: the one that let it start such a task.
pub fn read_scope(kind: TaskKind) -> Scope {
    match kind {
        TaskKind::InvoiceExport => Scope::BillingRead,
    }
}

/// Whether the task's requester may still have its result: for an invoice export, still a
/// member of the organisation holding `accounting` (a deleted organisation keeps its members'
/// rows, so the person who deleted it after asking for their paid invoices keeps the link).
pub fn entitled(conn: &mut DbConnection, task: &Task) -> diesel::QueryResult<bool> {
    match task.kind {
        TaskKind::InvoiceExport => {
            let Some(org_id) = task.organization_id.as_deref() else {
                return Ok(false);
            };
            Ok(
                memberships::find(conn, org_id, &task.user_id)?.is_some_and(|m| {
                    m.grant()
                        .satisfies(Need::Permission(Permission::Accounting))
                }),
            )
        }
    }
}

/// The caller's own task (another user's, or an unknown id, is 404); a token needs the scope
/// of the task's kind.
pub async fn get(pool: &Pool, caller: &Caller, id: String) -> Result<Task, AppError> {
    let user_id = caller.user_id.clone();
    let task = db::run(pool, move |conn| {
        tasks::find_for_user(conn, &user_id, &id)?.ok_or_else(no_such_task)
    })
    .await?;
    caller.require_scope(read_scope(task.kind))?;
    Ok(task)
}

/// The file of task `id`, for whoever holds its link's `token`, or for its requester signed in
/// (`caller`) when there is no token. Unknown task, wrong token, another user's task or a
/// requester no longer entitled: 404; the file expired (or purged): 410 `download_expired`.
pub async fn download(
    pool: &Pool,
    id: String,
    token: Option<String>,
    caller: Option<Caller>,
) -> Result<TaskFile, AppError> {
    let by_caller = token.is_none();
    let caller_scope = caller.clone();
    let file = db::run(pool, move |conn| {
        let task = tasks::find_any(conn, &id)?.ok_or_else(no_such_task)?;
        let file = task_files::find(conn, &id)?;
        match (&token, &caller) {
            // A purged file's token cannot be checked any more: its task says it expired.
            (Some(_), _) if file.is_none() && purged(&task) => return Err(expired()),
            (Some(token), _) => {
                let matches = file.as_ref().is_some_and(|f| {
                    secrets::constant_time_eq(&secrets::hash(token), &f.token_hash)
                });
                if !matches {
                    return Err(no_such_task());
                }
            }
            (None, Some(c)) if c.user_id == task.user_id => {}
            _ => return Err(no_such_task()),
        }
        if !entitled(conn, &task)? {
            return Err(no_such_task());
        }
        match file {
            Some(f) if f.expires_at > db::now() => Ok((task.kind, f)),
            _ if task.status == TaskStatus::Succeeded => Err(expired()),
            // Not finished, or failed: nothing to download yet.
            _ => Err(AppError::not_found("This task has no file to download.")),
        }
    })
    .await?;
    // Signed in without a link: a token needs the scope of the task's kind.
    if let Some(c) = caller_scope.filter(|_| by_caller) {
        c.require_scope(read_scope(file.0))?;
    }
    Ok(file.1)
}

/// Whether the task made a file that is gone: a succeeded task's file is removed only once
/// expired (by the daily purge).
fn purged(task: &Task) -> bool {
    task.status == TaskStatus::Succeeded && FileResult::of(task).is_some()
}

pub fn expired() -> AppError {
    AppError::new(
        Status::Gone,
        "download_expired",
        format!(
            "This download link expired: files are kept {FILE_DAYS} days. Ask for a new export."
        ),
    )
}

/// The file's bytes as a stream of its chunks, each read on the blocking pool when the previous
/// one was taken: memory holds one chunk. A chunk that cannot be read is logged and ends the
/// stream with an error (the transfer is cut, never completed short).
pub fn chunks(
    pool: Pool,
    file: TaskFile,
) -> impl Stream<Item = Result<Vec<u8>, AppError>> + 'static {
    futures_util::stream::unfold(Some(0), move |seq| {
        let (pool, file) = (pool.clone(), file.clone());
        async move {
            let seq = seq?;
            if seq >= file.chunk_count {
                return None;
            }
            let id = file.task_id.clone();
            let read = db::run(&pool, move |conn| {
                task_files::chunk(conn, &id, seq)?
                    .ok_or_else(|| AppError::internal(format!("chunk {seq} of {id} is missing")))
            })
            .await;
            match read {
                Ok(bytes) => Some((Ok(bytes), Some(seq + 1))),
                Err(e) => {
                    tracing::error!(
                        task_id = %file.task_id,
                        "task file download cut short: {}",
                        e.internal.as_deref().unwrap_or(&e.detail)
                    );
                    Some((Err(e), None))
                }
            }
        }
    })
}

/// Writes a task's file into the database as it is made: bytes gather until a chunk is full,
/// which is stored at once (its own short transaction), so memory holds at most one chunk.
pub struct FileSink {
    task_id: String,
    seq: i32,
    buf: Vec<u8>,
    size: i64,
    hasher: Sha256,
}

/// What a finished [`FileSink`] wrote.
#[derive(Debug, Clone)]
pub struct Written {
    pub size_bytes: i64,
    pub sha256: String,
    pub chunk_count: i32,
}

impl FileSink {
    /// A sink for `task_id`'s file; chunks left by an earlier, interrupted run are removed.
    pub fn new(conn: &mut DbConnection, task_id: &str) -> diesel::QueryResult<Self> {
        db::write(conn, |c| task_files::delete_chunks(c, task_id))?;
        Ok(Self {
            task_id: task_id.to_string(),
            seq: 0,
            buf: Vec::with_capacity(CHUNK_BYTES),
            size: 0,
            hasher: Sha256::new(),
        })
    }

    pub fn write(&mut self, conn: &mut DbConnection, bytes: &[u8]) -> diesel::QueryResult<()> {
        self.hasher.update(bytes);
        self.size += bytes.len() as i64;
        let mut rest = bytes;
        while !rest.is_empty() {
            let room = CHUNK_BYTES - self.buf.len();
            let (now, later) = rest.split_at(room.min(rest.len()));
            self.buf.extend_from_slice(now);
            rest = later;
            if self.buf.len() == CHUNK_BYTES {
                self.store(conn)?;
            }
        }
        Ok(())
    }

    fn store(&mut self, conn: &mut DbConnection) -> diesel::QueryResult<()> {
        let (id, seq, data) = (&self.task_id, self.seq, &self.buf);
        db::write(conn, |c| task_files::insert_chunk(c, id, seq, data))?;
        self.seq += 1;
        self.buf.clear();
        Ok(())
    }

    /// Stores the last chunk; returns what was written.
    pub fn finish(mut self, conn: &mut DbConnection) -> diesel::QueryResult<Written> {
        if !self.buf.is_empty() {
            self.store(conn)?;
        }
        Ok(Written {
            size_bytes: self.size,
            sha256: hex::encode(self.hasher.finalize()),
            chunk_count: self.seq,
        })
    }
}

/// A `Write` whose bytes are taken out from time to time (to hand a ZIP, written by a writer that
/// owns its output, over to a [`FileSink`] that needs the connection).
#[derive(Clone, Default)]
pub struct Pending(std::rc::Rc<std::cell::RefCell<Vec<u8>>>);

impl Pending {
    pub fn take(&self) -> Vec<u8> {
        std::mem::take(&mut *self.0.borrow_mut())
    }
}

impl Write for Pending {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Ends a task that made a file as succeeded, in the caller's transaction: the file's row with a
/// new download token's hash and its expiry, the typed result. Returns the token (for the mail)
/// and the result; `None` when the task had already ended.
pub fn succeed_with_file(
    conn: &mut DbConnection,
    task: &Task,
    filename: String,
    content_type: &str,
    count: i64,
    written: &Written,
) -> Result<Option<(String, FileResult)>, AppError> {
    let now = db::now();
    let expires_at = now + chrono::Duration::days(FILE_DAYS);
    let token = secrets::new_secret("");
    let result = FileResult {
        filename: filename.clone(),
        content_type: content_type.to_string(),
        size_bytes: written.size_bytes,
        count,
        expires_at,
    };
    let json = serde_json::to_string(&result)
        .map_err(|e| AppError::internal(format!("task result: {e}")))?;
    if !tasks::succeed(conn, &task.id, &json, now)? {
        return Ok(None);
    }
    task_files::insert(
        conn,
        &TaskFile {
            task_id: task.id.clone(),
            filename,
            content_type: content_type.to_string(),
            size_bytes: written.size_bytes,
            sha256: written.sha256.clone(),
            chunk_count: written.chunk_count,
            token_hash: secrets::hash(&token),
            created_at: now,
            expires_at,
        },
    )?;
    Ok(Some((token, result)))
}

/// Ends a task as failed, in the caller's transaction, dropping what it had written; false when
/// it had already ended.
pub fn fail(
    conn: &mut DbConnection,
    task_id: &str,
    code: &str,
    message: &str,
) -> diesel::QueryResult<bool> {
    task_files::delete_chunks(conn, task_id)?;
    tasks::fail(conn, task_id, code, message, db::now())
}

/// Removes the files expired by `now` (up to 100 a run, each in its own transaction: a file's
/// chunks can be large); returns how many.
pub fn purge_expired(conn: &mut DbConnection, now: NaiveDateTime) -> diesel::QueryResult<usize> {
    let due = task_files::expired(conn, now, 100)?;
    for id in &due {
        db::write(conn, |c| task_files::delete(c, id))?;
    }
    Ok(due.len())
}
