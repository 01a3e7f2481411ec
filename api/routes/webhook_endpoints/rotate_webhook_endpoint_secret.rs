use actix_web::{HttpResponse, post, web};

use crate::context::Services;
use crate::domain::actor::Origin;
use crate::domain::ids::WebhookEndpointId;
use crate::error::AppError;
use crate::error::responses::{Common, OrgAccess, Unauthenticated};
use crate::http::org::{AdminWrites, InOrg, Requirement};
use crate::services::outgoing_webhooks;
use crate::views::webhooks::WebhookEndpointWithSecret;

/// Rotate a webhook endpoint's signing secret; the new one is shown this once
///
/// For 24 hours the previous secret keeps signing alongside the new one (the
/// `webhook-signature` header carries both), so a receiver can switch without losing a
/// delivery. Admins and legal representatives. Tokens need `orgs:write`.
#[utoipa::path(
    operation_id = "rotate_webhook_endpoint_secret",
    tag = "webhooks",
    security(("bearer_jwt" = []), ("personal_token" = [])),
    params(("org_id" = String, Path, description = "The organisation's id (`org_…`)", example = "org_01936d7a6b2f7c3e9d4a5b6c7d8e9f00"), ("webhook_endpoint_id" = String, Path, description = "The endpoint's id (`whe_…`)", example = "whe_01936d7a6b2f7c3e9d4a5b6c7d8e9f00")),
    extensions(("x-leman-permission" = json!(AdminWrites::NEED)), ("x-leman-scope" = json!(AdminWrites::SCOPE))),
    responses(
        (status = 200, description = "The endpoint with its new secret (shown once)", body = WebhookEndpointWithSecret, headers(("Cache-Control" = String, description = "`no-store`: the secret is shown once, kept by no cache, and an `Idempotency-Key` never replays it"))),
        Unauthenticated,
        OrgAccess,
        Common,
    )
)]
#[post("/orgs/{org_id}/webhook-endpoints/{webhook_endpoint_id}/secret-rotation")]
pub async fn rotate_webhook_endpoint_secret(
    org: InOrg<AdminWrites>,
    services: web::Data<Services>,
    meta: Origin,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let id = WebhookEndpointId::parse(&path.1)?;
    let endpoint = outgoing_webhooks::rotate_secret(&services, meta, &org, id).await?;
    // no-store: neither caches nor the idempotency store may keep the secret.
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(WebhookEndpointWithSecret::from(&endpoint)))
}
