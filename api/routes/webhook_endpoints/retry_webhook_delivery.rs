use actix_web::{HttpResponse, post, web};

use crate::context::Services;
use crate::domain::actor::Origin;
use crate::domain::ids::{WebhookDeliveryId, WebhookEndpointId};
use crate::error::AppError;
use crate::error::responses::{Common, OrgAccess, Unauthenticated};
use crate::http::org::{AdminWrites, InOrg, Requirement};
use crate::services::outgoing_webhooks;
use crate::views::webhooks::WebhookDeliveryView;

/// Send a webhook delivery again, at once
///
/// Queues the delivery (whatever its status) for an attempt now; it keeps its `webhook-id`,
/// so a receiver that already handled it can tell. The endpoint must be enabled (409
/// `webhook_endpoint_disabled`). Admins and legal representatives. Tokens need `orgs:write`.
#[utoipa::path(
    operation_id = "retry_webhook_delivery",
    tag = "webhooks",
    security(("bearer_jwt" = []), ("personal_token" = [])),
    params(("org_id" = String, Path, description = "The organisation's id (`org_…`)", example = "org_01936d7a6b2f7c3e9d4a5b6c7d8e9f00"), ("webhook_endpoint_id" = String, Path, description = "The endpoint's id (`whe_…`)", example = "whe_01936d7a6b2f7c3e9d4a5b6c7d8e9f00"), ("delivery_id" = String, Path, description = "The delivery's id (`whd_…`)", example = "whd_01936d7a6b2f7c3e9d4a5b6c7d8e9f00")),
    extensions(("x-leman-permission" = json!(AdminWrites::NEED)), ("x-leman-scope" = json!(AdminWrites::SCOPE))),
    responses(
        (status = 202, description = "Queued: an attempt is due now", body = WebhookDeliveryView),
        Unauthenticated,
        OrgAccess,
        (status = 409, description = "The endpoint is disabled (`webhook_endpoint_disabled`), or the delivery is being sent (`webhook_delivery_in_progress`)", body = crate::error::Problem, content_type = "application/problem+json",
         example = json!({"type": "urn:leman:problem:webhook_endpoint_disabled", "title": "Conflict", "status": 409, "detail": "The endpoint is disabled: enable it before retrying its deliveries.", "code": "webhook_endpoint_disabled"})),
        Common,
    )
)]
#[post("/orgs/{org_id}/webhook-endpoints/{webhook_endpoint_id}/deliveries/{delivery_id}/retry")]
pub async fn retry_webhook_delivery(
    org: InOrg<AdminWrites>,
    services: web::Data<Services>,
    meta: Origin,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, AppError> {
    let endpoint = WebhookEndpointId::parse(&path.1)?;
    let delivery = WebhookDeliveryId::parse(&path.2)?;
    let row = outgoing_webhooks::retry_delivery(&services, meta, &org, endpoint, delivery).await?;
    Ok(HttpResponse::Accepted().json(WebhookDeliveryView::from(&row)))
}
