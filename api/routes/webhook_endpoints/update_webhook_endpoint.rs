use actix_web::{HttpResponse, patch, web};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::context::Services;
use crate::domain::actor::Origin;
use crate::domain::ids::WebhookEndpointId;
use crate::domain::webhooks::WebhookEventType;
use crate::error::AppError;
use crate::error::responses::{Common, JsonBody, OrgAccess, Unauthenticated};
use crate::http::Json;
use crate::http::org::{AdminWrites, InOrg, Requirement};
use crate::services::outgoing_webhooks::{self, EndpointInput};
use crate::views::webhooks::WebhookEndpointView;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"enabled": true}))]
pub struct UpdateWebhookEndpoint {
    #[schema(max_length = 2000, example = "https://hooks.example.com/leman")]
    pub url: Option<String>,
    #[schema(value_type = Option<Vec<WebhookEventType>>, min_items = 1)]
    pub event_types: Option<Vec<String>>,
    #[schema(max_length = 500)]
    pub description: Option<String>,
    /// Enabling a disabled endpoint clears its failure record.
    pub enabled: Option<bool>,
}

/// Change a webhook endpoint: URL, event types, description, enabled
///
/// Only the fields given change. A new URL is checked like at creation (422
/// `webhook_url_not_allowed`). Enabling an endpoint Leman disabled starts its failure window
/// anew. Admins and legal representatives. Tokens need `orgs:write`.
#[utoipa::path(
    operation_id = "update_webhook_endpoint",
    tag = "webhooks",
    security(("bearer_jwt" = []), ("personal_token" = [])),
    params(("org_id" = String, Path, description = "The organisation's id (`org_…`)", example = "org_01936d7a6b2f7c3e9d4a5b6c7d8e9f00"), ("webhook_endpoint_id" = String, Path, description = "The endpoint's id (`whe_…`)", example = "whe_01936d7a6b2f7c3e9d4a5b6c7d8e9f00")),
    extensions(("x-leman-permission" = json!(AdminWrites::NEED)), ("x-leman-scope" = json!(AdminWrites::SCOPE))),
    request_body = UpdateWebhookEndpoint,
    responses(
        (status = 200, description = "The endpoint as it is now", body = WebhookEndpointView),
        Unauthenticated,
        OrgAccess,
        JsonBody,
        (status = 422, description = "Invalid input (`validation_failed`: `https_required`, `invalid_url`, `unknown_event_type`, …), or a URL resolving to a private, loopback, link-local or metadata address (`webhook_url_not_allowed`)", body = crate::error::Problem, content_type = "application/problem+json",
         example = json!({"type": "urn:leman:problem:webhook_url_not_allowed", "title": "Unprocessable Content", "status": 422, "detail": "10.0.0.1 resolves to a private address, which webhooks may not call", "code": "webhook_url_not_allowed"})),
        Common,
    )
)]
#[patch("/orgs/{org_id}/webhook-endpoints/{webhook_endpoint_id}")]
pub async fn update_webhook_endpoint(
    org: InOrg<AdminWrites>,
    services: web::Data<Services>,
    meta: Origin,
    path: web::Path<(String, String)>,
    body: Json<UpdateWebhookEndpoint>,
) -> Result<HttpResponse, AppError> {
    let id = WebhookEndpointId::parse(&path.1)?;
    let b = body.0;
    let input = EndpointInput {
        url: b.url,
        description: b.description,
        event_types: b.event_types,
        enabled: b.enabled,
    };
    let endpoint = outgoing_webhooks::update(&services, meta, &org, id, input).await?;
    Ok(HttpResponse::Ok().json(WebhookEndpointView::from(&endpoint)))
}
