use actix_web::{HttpResponse, delete, web};

use crate::context::Services;
use crate::domain::actor::Origin;
use crate::domain::ids::WebhookEndpointId;
use crate::error::AppError;
use crate::error::responses::{Common, OrgAccess, Unauthenticated};
use crate::http::org::{AdminWrites, InOrg, Requirement};
use crate::services::outgoing_webhooks;

/// Delete a webhook endpoint and its delivery log
///
/// Deliveries still pending are dropped with it. Admins and legal representatives. Tokens need
/// `orgs:write`.
#[utoipa::path(
    operation_id = "delete_webhook_endpoint",
    tag = "webhooks",
    security(("bearer_jwt" = []), ("personal_token" = [])),
    params(("org_id" = String, Path, description = "The organisation's id (`org_…`)", example = "org_01936d7a6b2f7c3e9d4a5b6c7d8e9f00"), ("webhook_endpoint_id" = String, Path, description = "The endpoint's id (`whe_…`)", example = "whe_01936d7a6b2f7c3e9d4a5b6c7d8e9f00")),
    extensions(("x-leman-permission" = json!(AdminWrites::NEED)), ("x-leman-scope" = json!(AdminWrites::SCOPE))),
    responses(
        (status = 204, description = "Deleted"),
        Unauthenticated,
        OrgAccess,
        Common,
    )
)]
#[delete("/orgs/{org_id}/webhook-endpoints/{webhook_endpoint_id}")]
pub async fn delete_webhook_endpoint(
    org: InOrg<AdminWrites>,
    services: web::Data<Services>,
    meta: Origin,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let id = WebhookEndpointId::parse(&path.1)?;
    outgoing_webhooks::delete(&services, meta, &org, id).await?;
    Ok(HttpResponse::NoContent().finish())
}
