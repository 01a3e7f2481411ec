//! Tasks as the API shows them.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::utc;
use crate::config::Config;
use crate::domain::documents::{TaskKind, TaskStatus};
use crate::models::tasks::Task;
use crate::services::tasks::{FileResult, download_path};

/// How far a task got.
#[derive(Debug, Serialize, ToSchema)]
pub struct TaskProgress {
    pub done: i64,
    /// Unknown until the task has counted its work.
    pub total: Option<i64>,
}

/// A succeeded task's file.
#[derive(Debug, Serialize, ToSchema)]
pub struct TaskResult {
    /// The file, for its requester signed in (`Authorization`); the link mailed to them carries
    /// its own `token` instead, for a browser. Gone (410) after `expires_at`.
    pub download_url: String,
    pub expires_at: DateTime<Utc>,
    pub filename: String,
    pub size_bytes: i64,
    /// `text/csv; charset=utf-8` or `application/zip`.
    pub content_type: String,
    /// How many invoices the file holds.
    pub count: i64,
}

/// Why a task failed.
#[derive(Debug, Serialize, ToSchema)]
pub struct TaskError {
    /// Stable machine-readable reason (`export_failed`, `access_revoked`, …).
    pub code: String,
    pub message: String,
}

/// Long work started by a request: `queued` until a worker takes it, `running`, then
/// `succeeded` (with its `result`) or `failed` (with its `error`).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "task_01936d7a6b2f7c3e9d4a5b6c7d8e9f40", "kind": "invoice_export", "status": "succeeded",
    "organization_id": "org_01936d7a6b2f7c3e9d4a5b6c7d8e9f00",
    "progress": {"done": 42, "total": 42},
    "created_at": "2026-12-04T09:00:00Z", "started_at": "2026-12-04T09:00:01Z", "finished_at": "2026-12-04T09:00:02Z",
    "result": {"download_url": "https://api.leman.example/v1/tasks/task_01936d7a6b2f7c3e9d4a5b6c7d8e9f40/download",
               "expires_at": "2026-12-11T09:00:02Z", "filename": "invoices-org_01936d7a6b2f7c3e9d4a5b6c7d8e9f00-2026-12-04.csv",
               "size_bytes": 5123, "content_type": "text/csv; charset=utf-8", "count": 42},
    "error": null
}))]
pub struct TaskView {
    pub id: String,
    pub kind: TaskKind,
    pub status: TaskStatus,
    /// The organisation the task works on, if any.
    pub organization_id: Option<String>,
    pub progress: TaskProgress,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    /// Once succeeded.
    pub result: Option<TaskResult>,
    /// Once failed.
    pub error: Option<TaskError>,
}

impl TaskView {
    pub fn new(t: &Task, config: &Config) -> Self {
        Self {
            id: t.id.clone(),
            kind: t.kind,
            status: t.status,
            organization_id: t.organization_id.clone(),
            progress: TaskProgress {
                done: t.progress_done,
                total: t.progress_total,
            },
            created_at: utc(t.created_at),
            started_at: t.started_at.map(utc),
            finished_at: t.finished_at.map(utc),
            result: FileResult::of(t).map(|r| TaskResult {
                download_url: config.api_url(&download_path(&t.id)),
                expires_at: utc(r.expires_at),
                filename: r.filename,
                size_bytes: r.size_bytes,
                content_type: r.content_type,
                count: r.count,
            }),
            error: t.error_code.as_ref().map(|code| TaskError {
                code: code.clone(),
                message: t.error_message.clone().unwrap_or_default(),
            }),
        }
    }
}
