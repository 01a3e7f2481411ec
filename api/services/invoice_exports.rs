//! Invoice exports by mail (R26; R22: the deletion check offers "mail me my paid invoices"
//! through them): a holder of `accounting` asks for the invoices matching the list's filters as
//! one CSV (the streamed export's writer, `services::invoice_csv`) or as a ZIP of the paid and
//! refunded invoices' PDFs. The request answers at once with a queued task; the `run_task` job
//! writes the file into the database, then mails the requester a download link valid
//! `tasks::FILE_DAYS` days (or, once it gave up, that it failed).
//!
//! Only paid, partially refunded and refunded invoices have a final PDF (R24): a `pdf_zip` asking
//! for open or cancelled ones is refused (422), not silently shortened; with no status it takes
//! those three. A `pdf_zip` holds at most [`PDF_ZIP_MAX`] invoices (422 `export_too_large`,
//! checked when asked: narrow the period). A CSV has no limit: it is written batch by batch.

use std::collections::HashSet;
use std::io::Write as _;

use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::context::Services;
use crate::db::{self, DbConnection};
use crate::domain::actor::Origin;
use crate::domain::billing_states::InvoiceStatus;
use crate::domain::documents::{DocumentKind, ExportFormat, TaskKind, TaskStatus};
use crate::error::{AppError, FieldError, Status};
use crate::models::invoices as invoice_rows;
use crate::models::jobs::{self as job_rows, NewJob};
use crate::models::tasks::{self, Task};
use crate::services::activity::{self, Event};
use crate::services::invoice_csv::{self, BATCH, Layout};
use crate::services::invoices;
use crate::services::orgs::OrgRequest;
use crate::services::tasks::{self as task_service, FileSink, Pending, Written};

/// The most invoices one `pdf_zip` export holds.
pub const PDF_ZIP_MAX: i64 = 10_000;

/// The invoices that have a final PDF.
pub const WITH_PDF: [InvoiceStatus; 3] = [
    InvoiceStatus::Paid,
    InvoiceStatus::PartiallyRefunded,
    InvoiceStatus::Refunded,
];

/// The job that runs tasks.
pub const RUN_TASK: &str = "run_task";

/// What was asked, as the task keeps it (`tasks.params`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExportParams {
    pub format: ExportFormat,
    /// The statuses exported (for a `pdf_zip` asked with none: the three with a PDF).
    pub status: Vec<InvoiceStatus>,
    pub from: Option<String>,
    pub to: Option<String>,
    /// CSV only: one row per invoice line.
    #[serde(default)]
    pub lines: bool,
}

/// The request's errors name body fields (`/from`), the list's name query parameters (`from`).
fn in_body(mut e: AppError) -> AppError {
    for f in &mut e.errors {
        if !f.field.starts_with('/') {
            f.field = format!("/{}", f.field);
        }
    }
    e
}

/// Checks the request (all errors at once, before anything is written).
fn checked(mut p: ExportParams) -> Result<(ExportParams, invoice_rows::InvoiceFilter), AppError> {
    let mut errors: Vec<FieldError> = Vec::new();
    let filter = match invoices::filter(p.status.clone(), p.from.clone(), p.to.clone()) {
        Ok(f) => Some(f),
        Err(e) => {
            errors.extend(in_body(e).errors);
            None
        }
    };
    if p.format == ExportFormat::PdfZip {
        if p.status.iter().any(|s| !WITH_PDF.contains(s)) {
            errors.push(FieldError {
                field: "/status".into(),
                code: "no_pdf".into(),
                message: "a pdf_zip holds only invoices with a final PDF: paid, partially_refunded, refunded (export open or cancelled ones as csv)".into(),
            });
        }
        if p.lines {
            errors.push(FieldError {
                field: "/lines".into(),
                code: "csv_only".into(),
                message: "`lines` applies to a csv export only".into(),
            });
        }
        if p.status.is_empty() {
            p.status = WITH_PDF.to_vec();
        }
    }
    match filter {
        Some(mut f) if errors.is_empty() => {
            f.statuses = p.status.clone();
            Ok((p, f))
        }
        _ => Err(AppError::validation(errors)),
    }
}

pub fn too_large(n: i64) -> AppError {
    AppError::unprocessable(
        "export_too_large",
        format!(
            "{n} invoices match: a pdf_zip export holds at most {PDF_ZIP_MAX}. Narrow the period (`from`, `to`), or export them as csv."
        ),
    )
}

/// Queues an export of the organisation's invoices for the caller: the task (queued), its job
/// and one activity record, in one transaction.
pub async fn create(
    services: &Services,
    meta: Origin,
    org: &OrgRequest,
    params: ExportParams,
) -> Result<Task, AppError> {
    let (params, filter) = checked(params)?;
    let attempts = services.config.job_max_attempts;
    let org = org.clone();
    db::run(&services.pool, move |conn| {
        db::write_retrying(conn, |c| {
            let access = org.authorize(c)?;
            let org_id = access.org.id.as_str();
            if params.format == ExportFormat::PdfZip {
                let n = invoice_rows::count_matching(c, org_id, &filter)?;
                if n > PDF_ZIP_MAX {
                    return Err(too_large(n));
                }
            }
            let now = db::now();
            let task = Task {
                id: db::new_id("task"),
                kind: TaskKind::InvoiceExport,
                user_id: org.caller.user_id.clone(),
                organization_id: Some(org_id.to_string()),
                status: TaskStatus::Queued,
                params: serde_json::to_string(&params)
                    .map_err(|e| AppError::internal(e.to_string()))?,
                progress_done: 0,
                progress_total: None,
                result: None,
                error_code: None,
                error_message: None,
                created_at: now,
                started_at: None,
                finished_at: None,
                updated_at: now,
            };
            tasks::insert(c, &task)?;
            let mut job = NewJob::new(
                RUN_TASK,
                serde_json::json!({ "task_id": task.id }),
                attempts,
            );
            job.unique_key = Some(format!("{RUN_TASK}:{}", task.id));
            job_rows::enqueue(c, job)?;
            activity::record(
                c,
                &meta,
                Event::invoice_export_requested(
                    &org.caller.user_id,
                    org_id,
                    &task.id,
                    serde_json::to_value(&params).unwrap_or_default(),
                ),
            )?;
            Ok(task)
        })
    })
    .await
}

/// What a run of an export made.
pub enum Produced {
    /// The task had already ended, or is gone: nothing to do.
    Nothing,
    File {
        task: Box<Task>,
        filename: String,
        content_type: &'static str,
        count: i64,
        written: Written,
    },
}

fn revoked() -> AppError {
    AppError::new(
        Status::Forbidden,
        "access_revoked",
        "The requester no longer holds `accounting` in this organisation.",
    )
}

/// Makes the task's file (on a blocking thread, one connection, short transactions): marks it
/// running, counts what matches, then writes batch after batch into the task's chunks,
/// recording progress after each. A run after an interrupted one starts the file over.
pub fn produce(
    conn: &mut DbConnection,
    config: &Config,
    task_id: &str,
) -> Result<Produced, AppError> {
    let Some(task) = tasks::find_any(conn, task_id)? else {
        return Ok(Produced::Nothing);
    };
    if task.status.is_finished() {
        return Ok(Produced::Nothing);
    }
    if task.status == TaskStatus::Queued {
        db::write(conn, |c| tasks::start(c, task_id, db::now()))?;
    }
    if !task_service::entitled(conn, &task)? {
        return Err(revoked());
    }
    let org_id = task.organization_id.clone().unwrap_or_default();
    let params: ExportParams = serde_json::from_str(&task.params)
        .map_err(|e| AppError::internal(format!("task {task_id} params: {e}")))?;
    let (params, filter) = checked(params)?;
    let total = invoice_rows::count_matching(conn, &org_id, &filter)?;
    let progress = |conn: &mut DbConnection, done: i64| {
        db::write(conn, |c| {
            tasks::progress(c, task_id, done, Some(total), db::now())
        })
    };
    progress(conn, 0)?;
    let day = task.created_at.format("%Y-%m-%d");
    let mut sink = FileSink::new(conn, task_id)?;
    let mut done = 0i64;
    let mut after = None;
    let (filename, content_type) = match params.format {
        ExportFormat::Csv => {
            let layout = if params.lines {
                Layout::Lines
            } else {
                Layout::Invoices
            };
            sink.write(conn, &invoice_csv::header(layout))?;
            loop {
                let batch = invoice_csv::batch(conn, &org_id, &filter, after, BATCH)?;
                sink.write(conn, &invoice_csv::rows(layout, &batch)?)?;
                done += batch.len() as i64;
                progress(conn, done)?;
                after = invoice_csv::key_after(&batch);
                if (batch.len() as i64) < BATCH {
                    break;
                }
            }
            (
                format!("invoices-{org_id}-{day}.csv"),
                "text/csv; charset=utf-8",
            )
        }
        ExportFormat::PdfZip => {
            let out = Pending::default();
            let mut zip = zip::ZipWriter::new_stream(out.clone());
            let options = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated)
                // A fixed time in the entries: the same invoices give the same archive.
                .last_modified_time(zip::DateTime::default());
            let mut names = HashSet::new();
            let zip_error = |e: zip::result::ZipError| AppError::internal(format!("ZIP: {e}"));
            loop {
                let batch = invoice_rows::page(conn, &org_id, &filter, after, BATCH)?;
                for invoice in &batch {
                    let doc = crate::services::documents::render(
                        conn,
                        config,
                        &org_id,
                        DocumentKind::Invoice,
                        &invoice.id,
                        None,
                    )?;
                    // Numbers are unique per issuer: should two issuers' numbers meet in one
                    // organisation, the second file also names its invoice's id.
                    let name = if names.insert(doc.filename.clone()) {
                        doc.filename
                    } else {
                        let stem = doc.filename.trim_end_matches(".pdf");
                        format!("{stem}-{}.pdf", invoice.id)
                    };
                    zip.start_file(name, options).map_err(zip_error)?;
                    zip.write_all(&doc.bytes)
                        .map_err(|e| AppError::internal(format!("ZIP: {e}")))?;
                    sink.write(conn, &out.take())?;
                }
                done += batch.len() as i64;
                progress(conn, done)?;
                after = batch.last().map(|i| (i.issued_at, i.id.clone()));
                if (batch.len() as i64) < BATCH {
                    break;
                }
            }
            zip.finish().map_err(zip_error)?;
            sink.write(conn, &out.take())?;
            (format!("invoices-{org_id}-{day}.zip"), "application/zip")
        }
    };
    let written = sink.finish(conn)?;
    Ok(Produced::File {
        task: Box::new(task),
        filename,
        content_type,
        count: done,
        written,
    })
}

/// Ends the task with its file and mails the requester the link, in the caller's transaction
/// (the job's completion).
pub fn succeed(
    conn: &mut DbConnection,
    config: &Config,
    task: &Task,
    filename: String,
    content_type: &str,
    count: i64,
    written: &Written,
) -> Result<(), AppError> {
    let Some((token, result)) =
        task_service::succeed_with_file(conn, task, filename, content_type, count, written)?
    else {
        return Ok(());
    };
    let link = format!(
        "{}?token={token}",
        config.api_url(&task_service::download_path(&task.id))
    );
    crate::services::payments::send_receipt(
        conn,
        config,
        "invoice_export_ready",
        &task.user_id,
        task.organization_id.as_deref().unwrap_or_default(),
        serde_json::json!({
            "link": link,
            "expires_at": result.expires_at.format("%Y-%m-%d %H:%M UTC").to_string(),
            "filename": result.filename,
            "count": result.count,
        }),
    )
}

/// Ends the task as failed and tells the requester, in the caller's transaction.
pub fn fail(
    conn: &mut DbConnection,
    config: &Config,
    task_id: &str,
    code: &str,
    message: &str,
) -> Result<(), AppError> {
    let Some(task) = tasks::find_any(conn, task_id)? else {
        return Ok(());
    };
    if !task_service::fail(conn, task_id, code, message)? {
        return Ok(());
    }
    crate::services::payments::send_receipt(
        conn,
        config,
        "invoice_export_failed",
        &task.user_id,
        task.organization_id.as_deref().unwrap_or_default(),
        serde_json::json!({ "message": message }),
    )
}
