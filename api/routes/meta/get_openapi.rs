use actix_web::{HttpResponse, get, web};

use crate::error::responses::Common;

/// The served spec, rendered once at start.
pub struct SpecJson(pub String);

/// Get this API's OpenAPI description
///
/// This API's OpenAPI 3.1 description (the same document as `openapi/openapi.json`).
#[utoipa::path(
    operation_id = "get_openapi",
    tag = "meta",
    responses(
        (status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json", body = std::collections::HashMap<String, serde_json::Value>,
         example = json!({"openapi": "3.1.0", "info": {"title": "leman", "version": "0.1.0"}, "paths": {}})),
        Common,
    )
)]
#[get("/openapi.json")]
pub async fn get_openapi(spec: web::Data<SpecJson>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(spec.0.clone())
}
