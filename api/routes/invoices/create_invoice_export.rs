use actix_web::http::header;
use actix_web::{HttpResponse, post, web};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::context::Services;
use crate::domain::actor::Origin;
use crate::domain::billing_states::InvoiceStatus;
use crate::domain::documents::ExportFormat;
use crate::error::AppError;
use crate::error::responses::{Busy, Common, JsonBody, OrgAccess, Unauthenticated};
use crate::http::Json;
use crate::http::org::{AccountingReads, InOrg, Requirement};
use crate::services::invoice_exports::{self, ExportParams};
use crate::views::tasks::TaskView;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"format": "pdf_zip", "status": ["paid", "refunded"], "from": "2026-01-01", "to": "2026-12-31"}))]
pub struct InvoiceExportRequest {
    /// `csv`: one file, as `export.csv` gives it; `pdf_zip`: a ZIP of the invoices' PDFs, one
    /// per invoice named by its number.
    pub format: ExportFormat,
    /// Only these statuses (none: all; for a `pdf_zip`: paid, partially_refunded and refunded,
    /// the only ones with a final PDF).
    #[serde(default)]
    #[schema(max_items = 5)]
    pub status: Vec<InvoiceStatus>,
    /// First day of issue to include, `YYYY-MM-DD` (UTC).
    #[schema(value_type = Option<String>, format = Date, example = "2026-01-01")]
    pub from: Option<String>,
    /// Last day of issue to include, `YYYY-MM-DD` (UTC).
    #[schema(value_type = Option<String>, format = Date, example = "2026-12-31")]
    pub to: Option<String>,
    /// `csv` only: one row per invoice line.
    #[serde(default)]
    pub lines: bool,
}

/// Export the organisation's invoices by mail (a task)
///
/// Export the organisation's invoices by mail (R26; R22: the deletion check offers it): answers
/// at once with a queued task (`Location: /v1/tasks/{task_id}`); when the file is ready, the
/// caller gets a mail with a download link valid 7 days (also on the task, for them alone). The
/// filters are the list's. A `pdf_zip` holds only invoices with a final PDF (asking for `open`
/// or `cancelled` ones: 422 naming `/status`) and at most 10,000 (422 `export_too_large`: narrow
/// the period). Holders of `accounting`; it reads, so tokens need `billing:read`. Send an
/// `Idempotency-Key`: a retry gets the same task.
#[utoipa::path(
    operation_id = "create_invoice_export",
    tag = "billing",
    security(("bearer_jwt" = []), ("personal_token" = [])),
    params(("org_id" = String, Path, description = "The organisation's id (`org_…`)", example = "org_01936d7a6b2f7c3e9d4a5b6c7d8e9f00")),
    extensions(("x-leman-permission" = json!(AccountingReads::NEED)), ("x-leman-scope" = json!(AccountingReads::SCOPE))),
    request_body = InvoiceExportRequest,
    responses(
        (status = 202, description = "Queued: follow the task", body = TaskView,
         headers(("Location" = String, description = "`/v1/tasks/{task_id}`"))),
        Unauthenticated,
        OrgAccess,
        JsonBody,
        // After JsonBody: replaces its 422 with one that also names the export's own codes.
        (status = 422, description = "Wrong types, missing or unknown fields, or invalid values such as a malformed day, or a `pdf_zip` of open or cancelled invoices (`validation_failed`); a `pdf_zip` of more than 10,000 invoices (`export_too_large`)", body = crate::error::Problem, content_type = "application/problem+json",
         example = json!({"type": "urn:leman:problem:export_too_large", "title": "Unprocessable Content", "status": 422, "detail": "12000 invoices match: a pdf_zip export holds at most 10000. Narrow the period (`from`, `to`), or export them as csv.", "code": "export_too_large"})),
        Busy,
        Common,
    )
)]
#[post("/orgs/{org_id}/invoices/exports")]
pub async fn create_invoice_export(
    org: InOrg<AccountingReads>,
    services: web::Data<Services>,
    meta: Origin,
    body: Json<InvoiceExportRequest>,
) -> Result<HttpResponse, AppError> {
    let b = body.0;
    // The schema's bound: at most five statuses (a repeated one counts).
    if b.status.len() > 5 {
        return Err(AppError::field(
            "/status",
            "too_many",
            "at most 5 statuses (each once)",
        ));
    }
    let params = ExportParams {
        format: b.format,
        status: b.status,
        from: b.from,
        to: b.to,
        lines: b.lines,
    };
    let task = invoice_exports::create(&services, meta, &org, params).await?;
    Ok(HttpResponse::Accepted()
        .insert_header((header::LOCATION, format!("/v1/tasks/{}", task.id)))
        .json(TaskView::new(&task, &services.config)))
}
