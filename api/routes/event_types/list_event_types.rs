use actix_web::{HttpResponse, get};

use crate::domain::webhooks::WebhookEventType;
use crate::error::AppError;
use crate::error::responses::Common;
use crate::views::webhooks::{EventTypeList, EventTypeView};

/// List the webhook event types, each with its body's JSON schema
///
/// Every event type an endpoint may subscribe to, with a one-line description and the JSON
/// schema of a delivery's body (`{"type","timestamp","data"}`). Public: no authentication.
#[utoipa::path(
    operation_id = "list_event_types",
    tag = "webhooks",
    responses(
        (status = 200, description = "Every webhook event type", body = EventTypeList),
        Common,
    )
)]
#[get("/event-types")]
pub async fn list_event_types() -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "public, max-age=300"))
        .json(EventTypeList {
            data: WebhookEventType::ALL
                .iter()
                .copied()
                .map(EventTypeView::from)
                .collect(),
        }))
}
