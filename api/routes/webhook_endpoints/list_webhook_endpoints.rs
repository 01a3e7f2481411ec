use actix_web::{HttpResponse, get, web};

use crate::context::Services;
use crate::error::AppError;
use crate::error::responses::{Common, OrgAccess, Query as QueryErrors, Unauthenticated};
use crate::http::org::{AdminReads, InOrg, Requirement};
use crate::http::{PageParams, Query};
use crate::services::outgoing_webhooks;
use crate::views::webhooks::{WebhookEndpointList, WebhookEndpointView};

/// List the organisation's webhook endpoints
///
/// The endpoints receiving the organisation's events, oldest first (their secrets are never
/// shown again). Admins and legal representatives. Tokens need `orgs:read`.
#[utoipa::path(
    operation_id = "list_webhook_endpoints",
    tag = "webhooks",
    security(("bearer_jwt" = []), ("personal_token" = [])),
    params(("org_id" = String, Path, description = "The organisation's id (`org_…`)", example = "org_01936d7a6b2f7c3e9d4a5b6c7d8e9f00"), PageParams),
    extensions(("x-leman-permission" = json!(AdminReads::NEED)), ("x-leman-scope" = json!(AdminReads::SCOPE))),
    responses(
        (status = 200, description = "A page of endpoints", body = WebhookEndpointList),
        Unauthenticated,
        OrgAccess,
        QueryErrors,
        Common,
    )
)]
#[get("/orgs/{org_id}/webhook-endpoints")]
pub async fn list_webhook_endpoints(
    org: InOrg<AdminReads>,
    services: web::Data<Services>,
    page: Query<PageParams>,
) -> Result<HttpResponse, AppError> {
    let (rows, next_cursor) = outgoing_webhooks::list(&services.pool, &org, page.0).await?;
    Ok(HttpResponse::Ok().json(WebhookEndpointList {
        data: rows.iter().map(WebhookEndpointView::from).collect(),
        next_cursor,
    }))
}
