use actix_web::{HttpResponse, get, web};

use crate::auth::Caller;
use crate::context::Services;
use crate::domain::ids::TaskId;
use crate::error::AppError;
use crate::error::responses::{Common, InsufficientScope, NotFound, Unauthenticated};
use crate::services::tasks;
use crate::views::tasks::TaskView;

/// Get one of the caller's tasks
///
/// One of the caller's tasks: its state, progress and, once succeeded, its file's download URL
/// and expiry (or, once failed, why). Another user's task, whoever they are, is 404. Tokens need
/// the scope that started the task: `billing:read` for an `invoice_export`.
#[utoipa::path(
    operation_id = "get_task",
    tag = "tasks",
    security(("bearer_jwt" = []), ("personal_token" = ["billing:read"])),
    params(("task_id" = String, Path, description = "The task's id (`task_…`)", example = "task_01936d7a6b2f7c3e9d4a5b6c7d8e9f40")),
    responses(
        (status = 200, description = "The task", body = TaskView),
        Unauthenticated,
        InsufficientScope,
        NotFound,
        Common,
    )
)]
#[get("/tasks/{task_id}")]
pub async fn get_task(
    caller: Caller,
    services: web::Data<Services>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = TaskId::parse(&path.into_inner())?;
    let task = tasks::get(&services.pool, &caller, id.to_string()).await?;
    Ok(HttpResponse::Ok().json(TaskView::new(&task, &services.config)))
}
