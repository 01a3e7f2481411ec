//! Tasks: `/v1/tasks/{task_id}` (long work answered 202 elsewhere) and their files.

pub mod download_task_result;
pub mod get_task;

use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(get_task::get_task)
        .service(download_task_result::download_task_result);
}
