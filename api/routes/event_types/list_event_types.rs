use std::sync::OnceLock;

use actix_web::{HttpResponse, get, web};

use crate::domain::webhooks::WebhookEventType;
use crate::error::AppError;
use crate::error::responses::Common;
use crate::routes::meta::get_openapi::SpecJson;
use crate::views::webhooks::{EventTypeList, EventTypeView};

/// List the webhook event types, each with its body's JSON schema
///
/// Every event type an endpoint may subscribe to, with a one-line description and the JSON
/// schema of a delivery's body (`{"type","timestamp","data"}`), `data` being the event's
/// resource as the API shows it (its schemas under `$defs`, the same as this spec's
/// components). Public: no authentication.
#[utoipa::path(
    operation_id = "list_event_types",
    tag = "webhooks",
    responses(
        (status = 200, description = "Every webhook event type", body = EventTypeList),
        Common,
    )
)]
#[get("/event-types")]
pub async fn list_event_types(spec: web::Data<SpecJson>) -> Result<HttpResponse, AppError> {
    // The schemas come from the served spec's components (one source); the answer never
    // changes while the process runs, so it is rendered once.
    static BODY: OnceLock<String> = OnceLock::new();
    let body = BODY.get_or_init(|| {
        let doc: serde_json::Value =
            serde_json::from_str(&spec.0).expect("the served spec is JSON");
        let components = doc
            .pointer("/components/schemas")
            .and_then(|c| c.as_object())
            .cloned()
            .unwrap_or_default();
        let list = EventTypeList {
            data: WebhookEventType::ALL
                .iter()
                .map(|t| EventTypeView::new(*t, &components))
                .collect(),
        };
        serde_json::to_string(&list).expect("the event types serialise")
    });
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "public, max-age=300"))
        .content_type("application/json")
        .body(body.clone()))
}
