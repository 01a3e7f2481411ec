//! Runs a task (issue 13): queued by the request that created it (`services::invoice_exports`),
//! it dispatches on the task's kind. Today one kind: an invoice export, whose file is written
//! outside any long transaction (`invoice_exports::produce`, on a blocking thread), then the
//! task's success, the link's mail and the job's completion commit together.
//!
//! A refusal (the requester lost `accounting`, a document that cannot be rendered) ends the task
//! as failed at once; anything else is retried with the runner's backoff, and the last attempt's
//! failure ends the task as failed — either way the requester gets a mail.

use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};

use super::{ClaimedJob, JobContext, JobHandler};
use crate::db::{self, DbConnection};
use crate::domain::documents::TaskKind;
use crate::models::jobs::Job;
use crate::models::tasks;
use crate::services::invoice_exports::{self, Produced};

pub const KIND: &str = invoice_exports::RUN_TASK;

#[derive(Debug, Serialize, Deserialize)]
pub struct Payload {
    pub task_id: String,
}

pub struct RunTask;

impl JobHandler for RunTask {
    fn run<'a>(
        &'a self,
        ctx: &'a JobContext,
        job: &'a ClaimedJob,
    ) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            let Payload { task_id } = job.payload()?;
            let config = ctx.config.clone();
            let (id, cfg) = (task_id.clone(), config.clone());
            let produced = db::run(&ctx.pool, move |conn| {
                match tasks::find_any(conn, &id)?.map(|t| t.kind) {
                    Some(TaskKind::InvoiceExport) => invoice_exports::produce(conn, &cfg, &id),
                    None => Ok(Produced::Nothing),
                }
            })
            .await;
            match produced {
                Ok(Produced::Nothing) => Ok(()),
                Ok(Produced::File {
                    task,
                    filename,
                    content_type,
                    count,
                    written,
                }) => {
                    ctx.complete(job, move |c| {
                        invoice_exports::succeed(
                            c,
                            &config,
                            &task,
                            filename,
                            content_type,
                            count,
                            &written,
                        )
                    })
                    .await
                }
                Err(e)
                    if !e.status.is_server_error() || job.job.attempts >= job.job.max_attempts =>
                {
                    let cause = e.internal.clone().unwrap_or_else(|| e.detail.clone());
                    tracing::warn!(task_id = %task_id, code = e.code, "task failed: {cause}");
                    let (code, message) = if e.status.is_server_error() {
                        (
                            "export_failed",
                            "The export could not be made. Try again later, or ask support with the task's id.".to_string(),
                        )
                    } else {
                        (e.code, e.detail.clone())
                    };
                    ctx.complete(job, move |c| {
                        invoice_exports::fail(c, &config, &task_id, code, &message)
                    })
                    .await
                }
                Err(e) => Err(format!(
                    "task {task_id}: {}",
                    e.internal.as_deref().unwrap_or(&e.detail)
                )),
            }
        })
    }

    /// Given up without a word (a panic on the last attempt): the task ends as failed.
    fn on_dead(&self, conn: &mut DbConnection, job: &Job) -> diesel::QueryResult<()> {
        if let Ok(Payload { task_id }) = serde_json::from_str(&job.payload) {
            crate::services::tasks::fail(
                conn,
                &task_id,
                "export_failed",
                "The export could not be made. Try again later, or ask support with the task's id.",
            )?;
        }
        Ok(())
    }
}
