use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, HttpResponse, get, web};
use futures_util::StreamExt;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::auth::Caller;
use crate::context::Services;
use crate::domain::ids::TaskId;
use crate::error::AppError;
use crate::error::responses::{Common, Query as QueryErrors};
use crate::http::Query;
use crate::services::tasks;

/// A ZIP archive, as bytes.
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct ZipFile(pub Vec<u8>);

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DownloadQuery {
    /// The secret of the link mailed to the task's requester.
    #[param(
        max_length = 64,
        example = "3q2-7wAAAAA3q2-7wAAAAA3q2-7wAAAAA3q2-7wAAAA"
    )]
    pub token: Option<String>,
}

/// A succeeded task's file, streamed as an attachment
///
/// Public, for the link mailed to the requester (opened in a browser): its `token` is the
/// credential (a wrong one, an unknown task, or a requester who no longer holds `accounting` in the
/// organisation: 404). Without a token, the requester signed in (`Authorization`; tokens need the
/// task's scope, `billing:read` for an `invoice_export`). Files are kept 7 days after the task
/// finished: then 410 `download_expired`.
#[utoipa::path(
    operation_id = "download_task_result",
    tag = "tasks",
    security((), ("bearer_jwt" = []), ("personal_token" = ["billing:read"])),
    params(("task_id" = String, Path, description = "The task's id (`task_…`)", example = "task_01936d7a6b2f7c3e9d4a5b6c7d8e9f40"), DownloadQuery),
    responses(
        (status = 200, description = "The file: a CSV (`text/csv; charset=utf-8`) or a ZIP of PDFs (`application/zip`)",
         content(
            (String = "text/csv", example = "number,status,issued_at,due_at,paid_at,cancelled_at,currency,subtotal,vat,total,refunded,customer_name,customer_country,customer_vat_number,order_id,invoice_id\r\n"),
            (ZipFile = "application/zip", example = "PK\u{3}\u{4}…"),
         ),
         headers(("Content-Disposition" = String, description = "`attachment; filename=\"…\"`"))),
        (status = 401, description = "No `token` and no valid credentials (`unauthenticated`)", body = crate::error::Problem, content_type = "application/problem+json",
         example = json!({"type": "urn:leman:problem:unauthenticated", "title": "Unauthorized", "status": 401, "detail": "Sign in, or follow the link from the mail.", "code": "unauthenticated"})),
        (status = 403, description = "Signed in with a token that lacks the task's scope (`insufficient_scope`)", body = crate::error::Problem, content_type = "application/problem+json",
         example = json!({"type": "urn:leman:problem:insufficient_scope", "title": "Forbidden", "status": 403, "detail": "This token lacks the `billing:read` scope.", "code": "insufficient_scope"})),
        (status = 404, description = "No such task, a wrong token, another user's task, or no file yet (`not_found`)", body = crate::error::Problem, content_type = "application/problem+json",
         example = json!({"type": "urn:leman:problem:not_found", "title": "Not Found", "status": 404, "detail": "No such task.", "code": "not_found"})),
        (status = 410, description = "The file expired, 7 days after the task finished (`download_expired`)", body = crate::error::Problem, content_type = "application/problem+json",
         example = json!({"type": "urn:leman:problem:download_expired", "title": "Gone", "status": 410, "detail": "This download link expired: files are kept 7 days. Ask for a new export.", "code": "download_expired"})),
        QueryErrors,
        Common,
    )
)]
#[get("/tasks/{task_id}/download")]
pub async fn download_task_result(
    req: HttpRequest,
    services: web::Data<Services>,
    path: web::Path<String>,
    query: Query<DownloadQuery>,
) -> Result<HttpResponse, AppError> {
    let token = query.0.token.filter(|t| !t.is_empty());
    // The link's token is the credential; without one, the requester signed in (checked first,
    // as on every authenticated route).
    let caller = match token {
        Some(_) => None,
        None => Some(Caller::extract(&req).await?),
    };
    let id = TaskId::parse(&path.into_inner())?;
    let file = tasks::download(&services.pool, id.to_string(), token, caller).await?;
    let disposition = format!("attachment; filename=\"{}\"", file.filename);
    let content_type = file.content_type.clone();
    let body = tasks::chunks(services.pool.clone(), file).map(|piece| {
        piece
            .map(web::Bytes::from)
            .map_err(|e| std::io::Error::other(e.to_string()))
    });
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::CONTENT_DISPOSITION, disposition))
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .streaming(body))
}
