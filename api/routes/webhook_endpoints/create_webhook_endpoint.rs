use actix_web::{HttpResponse, post, web};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::context::Services;
use crate::domain::actor::Origin;
use crate::domain::webhooks::WebhookEventType;
use crate::error::AppError;
use crate::error::responses::{Common, JsonBody, OrgAccess, Unauthenticated};
use crate::http::Json;
use crate::http::org::{AdminWrites, InOrg, Requirement};
use crate::services::outgoing_webhooks::{self, EndpointInput};
use crate::views::webhooks::WebhookEndpointWithSecret;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"url": "https://hooks.example.com/leman", "event_types": ["invoice.paid"], "description": "Accounting sync"}))]
pub struct CreateWebhookEndpoint {
    /// An `https://` URL whose host resolves to public addresses only.
    #[schema(max_length = 2000, example = "https://hooks.example.com/leman")]
    pub url: String,
    /// The event types to receive (`GET /v1/event-types`), at least one.
    #[schema(value_type = Vec<WebhookEventType>, min_items = 1)]
    pub event_types: Vec<String>,
    #[schema(max_length = 500)]
    pub description: Option<String>,
    /// Default `true`.
    pub enabled: Option<bool>,
}

/// Register a webhook endpoint; its signing secret is shown this once
///
/// The endpoint receives the chosen event types of this organisation, signed after Standard
/// Webhooks with the returned `secret` (`whsec_…`). The URL must be `https://` and resolve to
/// public addresses (private, loopback, link-local, shared and metadata ranges are refused with
/// 422 `webhook_url_not_allowed`). At most 20 endpoints. Admins and legal representatives.
/// Tokens need `orgs:write`.
#[utoipa::path(
    operation_id = "create_webhook_endpoint",
    tag = "webhooks",
    security(("bearer_jwt" = []), ("personal_token" = [])),
    params(("org_id" = String, Path, description = "The organisation's id (`org_…`)", example = "org_01936d7a6b2f7c3e9d4a5b6c7d8e9f00")),
    extensions(("x-leman-permission" = json!(AdminWrites::NEED)), ("x-leman-scope" = json!(AdminWrites::SCOPE))),
    request_body = CreateWebhookEndpoint,
    responses(
        (status = 201, description = "The endpoint, with its secret (shown once)", body = WebhookEndpointWithSecret, headers(("Cache-Control" = String, description = "`no-store`: the secret is shown once, kept by no cache, and an `Idempotency-Key` never replays it"))),
        Unauthenticated,
        OrgAccess,
        (status = 409, description = "The organisation has 20 endpoints already (`webhook_endpoint_limit_reached`)", body = crate::error::Problem, content_type = "application/problem+json",
         example = json!({"type": "urn:leman:problem:webhook_endpoint_limit_reached", "title": "Conflict", "status": 409, "detail": "An organisation has at most 20 webhook endpoints.", "code": "webhook_endpoint_limit_reached"})),
        JsonBody,
        (status = 422, description = "Invalid input (`validation_failed`: `https_required`, `invalid_url`, `unknown_event_type`, …), or a URL resolving to a private, loopback, link-local or metadata address (`webhook_url_not_allowed`)", body = crate::error::Problem, content_type = "application/problem+json",
         example = json!({"type": "urn:leman:problem:webhook_url_not_allowed", "title": "Unprocessable Content", "status": 422, "detail": "10.0.0.1 resolves to a private address, which webhooks may not call", "code": "webhook_url_not_allowed"})),
        Common,
    )
)]
#[post("/orgs/{org_id}/webhook-endpoints")]
pub async fn create_webhook_endpoint(
    org: InOrg<AdminWrites>,
    services: web::Data<Services>,
    meta: Origin,
    body: Json<CreateWebhookEndpoint>,
) -> Result<HttpResponse, AppError> {
    let b = body.0;
    let input = EndpointInput {
        url: Some(b.url),
        description: b.description,
        event_types: Some(b.event_types),
        enabled: b.enabled,
    };
    let endpoint = outgoing_webhooks::create(&services, meta, &org, input).await?;
    // no-store: neither caches nor the idempotency store may keep the secret.
    Ok(HttpResponse::Created()
        .insert_header(("Cache-Control", "no-store"))
        .insert_header((
            "Location",
            format!(
                "/v1/orgs/{}/webhook-endpoints/{}",
                endpoint.organization_id, endpoint.id
            ),
        ))
        .json(WebhookEndpointWithSecret::from(&endpoint)))
}
