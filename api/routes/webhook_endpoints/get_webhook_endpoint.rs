use actix_web::{HttpResponse, get, web};

use crate::context::Services;
use crate::domain::ids::WebhookEndpointId;
use crate::error::AppError;
use crate::error::responses::{Common, OrgAccess, Unauthenticated};
use crate::http::org::{AdminReads, InOrg, Requirement};
use crate::services::outgoing_webhooks;
use crate::views::webhooks::WebhookEndpointView;

/// Read a webhook endpoint
///
/// One endpoint of the organisation (without its secret). Admins and legal representatives.
/// Tokens need `orgs:read`.
#[utoipa::path(
    operation_id = "get_webhook_endpoint",
    tag = "webhooks",
    security(("bearer_jwt" = []), ("personal_token" = [])),
    params(("org_id" = String, Path, description = "The organisation's id (`org_…`)", example = "org_01936d7a6b2f7c3e9d4a5b6c7d8e9f00"), ("webhook_endpoint_id" = String, Path, description = "The endpoint's id (`whe_…`)", example = "whe_01936d7a6b2f7c3e9d4a5b6c7d8e9f00")),
    extensions(("x-leman-permission" = json!(AdminReads::NEED)), ("x-leman-scope" = json!(AdminReads::SCOPE))),
    responses(
        (status = 200, description = "The endpoint", body = WebhookEndpointView),
        Unauthenticated,
        OrgAccess,
        Common,
    )
)]
#[get("/orgs/{org_id}/webhook-endpoints/{webhook_endpoint_id}")]
pub async fn get_webhook_endpoint(
    org: InOrg<AdminReads>,
    services: web::Data<Services>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let id = WebhookEndpointId::parse(&path.1)?;
    let endpoint = outgoing_webhooks::get(&services.pool, &org, id).await?;
    Ok(HttpResponse::Ok().json(WebhookEndpointView::from(&endpoint)))
}
