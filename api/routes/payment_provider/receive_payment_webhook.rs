use actix_web::{HttpRequest, HttpResponse, post, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::context::Services;
use crate::error::AppError;
use crate::error::responses::{Busy, Common};
use crate::services::webhooks::{self, Handled};

/// What the provider sends.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"id": "evt_3PZ9x2", "type": "payment.succeeded", "data": {"payment_reference": "sbx_01936d7a6b2f7c3e9d4a5b6c7d8e9f12"}}))]
pub struct WebhookEvent {
    /// Unique per event: a replay is ignored.
    pub id: String,
    /// `payment.succeeded` or `payment.failed` (others are acknowledged and ignored).
    #[serde(rename = "type")]
    pub kind: String,
    pub data: WebhookData,
}

#[derive(Deserialize, ToSchema)]
pub struct WebhookData {
    /// The provider's reference of the payment; for bank transfers, the reference quoted.
    pub payment_reference: String,
    pub failure_code: Option<String>,
}

/// The acknowledgement.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"received": true, "applied": true, "note": null}))]
pub struct WebhookAck {
    pub received: bool,
    /// False when the event changed nothing (a replay, an unknown payment, another type).
    pub applied: bool,
    pub note: Option<&'static str>,
}

/// The payment provider's notifications (asynchronous payments settled or failed)
///
/// Signed, not authenticated: `Leman-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of
/// "<t>.<body>">` with a configured secret; more than 5 minutes off, or a wrong signature, is 400
/// and changes nothing. Each event id is handled once.
#[utoipa::path(
    operation_id = "receive_payment_webhook",
    tag = "billing",
    params(("Leman-Signature" = String, Header, description = "`t=<unix seconds>,v1=<hex signature>`", example = "t=1795683600,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd")),
    request_body = WebhookEvent,
    responses(
        (status = 200, description = "Received (and applied, unless `applied` is false)", body = WebhookAck),
        (status = 400, description = "A missing, wrong or stale signature (`invalid_signature`), or an event we cannot read (`malformed_event`)", body = crate::error::Problem, content_type = "application/problem+json",
         example = json!({"type": "urn:leman:problem:invalid_signature", "title": "Bad Request", "status": 400, "detail": "The signature does not match the body.", "code": "invalid_signature"})),
        (status = 413, description = "The body is larger than 1 MiB (`payload_too_large`)", body = crate::error::Problem, content_type = "application/problem+json",
         example = json!({"type": "urn:leman:problem:payload_too_large", "title": "Payload Too Large", "status": 413, "detail": "The request body exceeds 1048576 bytes.", "code": "payload_too_large"})),
        (status = 415, description = "The body is not `application/json` (`unsupported_media_type`)", body = crate::error::Problem, content_type = "application/problem+json",
         example = json!({"type": "urn:leman:problem:unsupported_media_type", "title": "Unsupported Media Type", "status": 415, "detail": "Send the body as application/json.", "code": "unsupported_media_type"})),
        (status = 422, description = "Never: events are checked by signature first (kept for the body contract)", body = crate::error::Problem, content_type = "application/problem+json",
         example = json!({"type": "urn:leman:problem:validation_failed", "title": "Unprocessable Content", "status": 422, "detail": "The request is not valid.", "code": "validation_failed"})),
        Busy,
        Common,
    )
)]
#[post("/payment-provider/webhooks")]
pub async fn receive_payment_webhook(
    req: HttpRequest,
    services: web::Data<Services>,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    // Read as bytes (the signature covers them exactly), with the size limit in problem+json.
    let body = crate::http::json::read_body(&req, &mut payload.into_inner()).await?;
    let signature = req
        .headers()
        .get("Leman-Signature")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let handled = webhooks::receive(&services, signature, body.to_vec()).await?;
    Ok(HttpResponse::Ok().json(match handled {
        Handled::Applied => WebhookAck {
            received: true,
            applied: true,
            note: None,
        },
        Handled::Ignored(note) => WebhookAck {
            received: true,
            applied: false,
            note: Some(note),
        },
    }))
}
