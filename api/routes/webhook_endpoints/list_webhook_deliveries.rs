use actix_web::{HttpResponse, get, web};

use crate::context::Services;
use crate::domain::ids::WebhookEndpointId;
use crate::error::AppError;
use crate::error::responses::{Common, OrgAccess, Query as QueryErrors, Unauthenticated};
use crate::http::org::{AdminReads, InOrg, Requirement};
use crate::http::{PageParams, Query};
use crate::services::outgoing_webhooks;
use crate::views::webhooks::{WebhookDeliveryList, WebhookDeliveryView};

/// List a webhook endpoint's deliveries: attempts, status code, next try
///
/// The delivery log, newest first: each event sent to the endpoint with its attempts, the
/// status code and duration of the last one, why it failed and when the next is due.
/// Admins and legal representatives. Tokens need `orgs:read`.
#[utoipa::path(
    operation_id = "list_webhook_deliveries",
    tag = "webhooks",
    security(("bearer_jwt" = []), ("personal_token" = [])),
    params(("org_id" = String, Path, description = "The organisation's id (`org_…`)", example = "org_01936d7a6b2f7c3e9d4a5b6c7d8e9f00"), ("webhook_endpoint_id" = String, Path, description = "The endpoint's id (`whe_…`)", example = "whe_01936d7a6b2f7c3e9d4a5b6c7d8e9f00"), PageParams),
    extensions(("x-leman-permission" = json!(AdminReads::NEED)), ("x-leman-scope" = json!(AdminReads::SCOPE))),
    responses(
        (status = 200, description = "A page of deliveries", body = WebhookDeliveryList),
        Unauthenticated,
        OrgAccess,
        QueryErrors,
        Common,
    )
)]
#[get("/orgs/{org_id}/webhook-endpoints/{webhook_endpoint_id}/deliveries")]
pub async fn list_webhook_deliveries(
    org: InOrg<AdminReads>,
    services: web::Data<Services>,
    path: web::Path<(String, String)>,
    page: Query<PageParams>,
) -> Result<HttpResponse, AppError> {
    let id = WebhookEndpointId::parse(&path.1)?;
    let (rows, next_cursor) =
        outgoing_webhooks::list_deliveries(&services.pool, &org, id, page.0).await?;
    Ok(HttpResponse::Ok().json(WebhookDeliveryList {
        data: rows.iter().map(WebhookDeliveryView::from).collect(),
        next_cursor,
    }))
}
