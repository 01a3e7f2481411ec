use actix_web::{HttpResponse, get};

use crate::error::AppError;
use crate::error::responses::Common;
use crate::services::feedback::SERVICES;
use crate::views::feedback::{FeedbackService, FeedbackServiceList};

/// List the services that take feedback and the languages each reads
///
/// The services of the feedback page, in its order, each with the languages a message about it
/// may be written in: all five (`fr`, `en`, `de`, `it`, `es`) for most, French only for some
/// (kChat, kMeet). Public: no sign-in needed to read it. New services may appear within `/v1`.
#[utoipa::path(
    operation_id = "list_feedback_services",
    tag = "feedback",
    responses(
        (status = 200, description = "Every service that takes feedback", body = FeedbackServiceList),
        Common,
    )
)]
#[get("/feedback/services")]
pub async fn list_feedback_services() -> Result<HttpResponse, AppError> {
    let data = SERVICES.iter().map(FeedbackService::from).collect();
    Ok(HttpResponse::Ok().json(FeedbackServiceList { data }))
}
