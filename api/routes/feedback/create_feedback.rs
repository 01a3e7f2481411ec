use actix_web::{HttpResponse, post, web};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::context::Services;
use crate::domain::actor::Origin;
use crate::domain::scopes::Scope;
use crate::error::AppError;
use crate::error::responses::{Common, InsufficientScope, JsonBody, Unauthenticated};
use crate::http::Json;
use crate::services::feedback;
use crate::views::feedback::FeedbackView;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"service": "kdrive", "language": "en", "message": "Sharing a folder with a link that expires would help us a lot."}))]
pub struct CreateFeedback {
    /// The service it is about (an id of `GET /v1/feedback/services`).
    #[schema(value_type = crate::views::feedback::FeedbackServiceId)]
    pub service: String,
    /// The language it is written in: one the service reads (`language_not_offered`
    /// otherwise; kChat and kMeet read French only).
    #[schema(value_type = crate::domain::Language)]
    pub language: String,
    /// 10 to 5,000 characters once trimmed. Stored in Unicode NFC with line breaks as `\n`;
    /// control characters other than line breaks and tabs, and bidirectional overrides, are
    /// refused (`invalid_characters`).
    #[schema(min_length = 10, max_length = 5000)]
    pub message: String,
}

/// Send feedback or a suggestion about a service
///
/// Any signed-in person may write about a service of `GET /v1/feedback/services`, in one of
/// the languages it reads; the relevant team reads it (staff export the messages with
/// `leman feedback export`). At most 10 messages an hour per account (429 `rate_limited` with
/// `Retry-After`). Tokens need `account:write`.
#[utoipa::path(
    operation_id = "create_feedback",
    tag = "feedback",
    security(("bearer_jwt" = []), ("personal_token" = ["account:write"])),
    request_body = CreateFeedback,
    responses(
        (status = 201, description = "The message, as recorded", body = FeedbackView),
        Unauthenticated,
        InsufficientScope,
        (status = 429, description = "The account sent 10 messages in the last hour (`rate_limited`); retry after `Retry-After` seconds", body = crate::error::Problem, content_type = "application/problem+json",
         headers(("Retry-After" = u64, description = "Seconds to wait")),
         example = json!({"type": "urn:leman:problem:rate_limited", "title": "Too Many Requests", "status": 429, "detail": "At most 10 feedback messages an hour. Retry in 1260 s.", "code": "rate_limited"})),
        JsonBody,
        // After JsonBody: replaces its 422 with one that also names the feedback's own codes.
        (status = 422, description = "Wrong types, missing or unknown fields, an unknown `service` (`unknown_service`), a `language` not among the five, a message too short, too long or with control characters (`validation_failed`); card data (`card_data_not_accepted`); a language the service does not read (`language_not_offered`)", body = crate::error::Problem, content_type = "application/problem+json",
         example = json!({"type": "urn:leman:problem:language_not_offered", "title": "Unprocessable Content", "status": 422, "detail": "Feedback on kChat is read in fr only.", "code": "language_not_offered", "errors": [{"field": "/language", "code": "language_not_offered", "message": "must be one of fr for this service"}]})),
        Common,
    )
)]
#[post("/feedback")]
pub async fn create_feedback(
    caller: Caller,
    services: web::Data<Services>,
    meta: Origin,
    body: Json<CreateFeedback>,
) -> Result<HttpResponse, AppError> {
    caller.require_scope(Scope::AccountWrite)?;
    let b = body.0;
    let row = feedback::send(
        &services.pool,
        meta,
        caller,
        b.service,
        b.language,
        b.message,
    )
    .await?;
    Ok(HttpResponse::Created().json(FeedbackView::from(row)))
}
