use actix_web::{HttpResponse, post, web};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::context::Services;
use crate::domain::actor::Origin;
use crate::error::AppError;
use crate::error::responses::{Common, OrgAccess, Unauthenticated};
use crate::http::Json;
use crate::http::org::{AccountingWrites, InOrg, Requirement};
use crate::services::auto_renewal::{self, Setting};
use crate::views::products::{ProductList, ProductView};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"product_ids": ["prd_01936d7a6b2f7c3e9d4a5b6c7d8e9f10", "prd_01936d7a6b2f7c3e9d4a5b6c7d8e9f11"], "enabled": true, "payment_method_id": "pm_01936d7a6b2f7c3e9d4a5b6c7d8e9f05"}))]
pub struct AutoRenewalsSetting {
    /// 1 to 100 products of the organisation.
    #[schema(min_items = 1, max_items = 100)]
    pub product_ids: Vec<String>,
    /// On or off for all of them.
    pub enabled: bool,
    /// With `enabled`: the saved card that pays (omitted: the organisation's default method, if
    /// it is a card).
    #[schema(example = "pm_01936d7a6b2f7c3e9d4a5b6c7d8e9f05", max_length = 40)]
    pub payment_method_id: Option<String>,
}

/// Turn automatic renewal on or off for several products
///
/// Turn automatic renewal on or off for several products at once (R39–R41): all or nothing;
/// a product that cannot is named by its pointer (`/product_ids/{i}`) and nothing changes.
/// Only a saved card pays (the one named, or the default method if it is a card); a product
/// expiring within 14 days must be renewed first. Holders of `accounting`. Tokens need
/// `billing:write`.
#[utoipa::path(
    operation_id = "set_auto_renewals",
    tag = "billing",
    security(("bearer_jwt" = []), ("personal_token" = [])),
    params(("org_id" = String, Path, description = "The organisation's id (`org_…`)", example = "org_01936d7a6b2f7c3e9d4a5b6c7d8e9f00")),
    extensions(("x-leman-permission" = json!(AccountingWrites::NEED)), ("x-leman-scope" = json!(AccountingWrites::SCOPE))),
    request_body = AutoRenewalsSetting,
    responses(
        (status = 200, description = "The products, with their automatic renewal as set", body = ProductList),
        Unauthenticated,
        OrgAccess,
        (status = 400, description = "The body is not well-formed JSON (`malformed_json`)", body = crate::error::Problem, content_type = "application/problem+json",
         example = json!({"type": "urn:leman:problem:malformed_json", "title": "Bad Request", "status": 400, "detail": "The body is not valid JSON: EOF while parsing an object at line 1 column 1.", "code": "malformed_json"})),
        (status = 413, description = "The body is larger than 1 MiB (`payload_too_large`)", body = crate::error::Problem, content_type = "application/problem+json",
         example = json!({"type": "urn:leman:problem:payload_too_large", "title": "Payload Too Large", "status": 413, "detail": "The request body exceeds 1048576 bytes.", "code": "payload_too_large"})),
        (status = 415, description = "The body is not `application/json` (`unsupported_media_type`)", body = crate::error::Problem, content_type = "application/problem+json",
         example = json!({"type": "urn:leman:problem:unsupported_media_type", "title": "Unsupported Media Type", "status": 415, "detail": "Send the body as application/json.", "code": "unsupported_media_type"})),
        (status = 422, description = "Wrong types, missing or unknown fields, or products that cannot (`validation_failed`, each at `/product_ids/{i}`: `unknown_product`, `duplicate_item`, `product_not_renewable`, `auto_renewal_too_late`); card data (`card_data_not_accepted`); no saved card to pay (`auto_renewal_needs_card`)", body = crate::error::Problem, content_type = "application/problem+json",
         example = json!({"type": "urn:leman:problem:validation_failed", "title": "Unprocessable Content", "status": 422, "detail": "The request is not valid.", "code": "validation_failed", "errors": [{"field": "/product_ids/1", "code": "auto_renewal_too_late", "message": "expires within 14 days: renew it first"}]})),
        Common,
    )
)]
#[post("/orgs/{org_id}/renewals/auto-renewal")]
pub async fn set_auto_renewals(
    org: InOrg<AccountingWrites>,
    services: web::Data<Services>,
    meta: Origin,
    body: Json<AutoRenewalsSetting>,
) -> Result<HttpResponse, AppError> {
    let body = body.0;
    let setting = Setting {
        enabled: body.enabled,
        payment_method_id: body.payment_method_id,
    };
    let products = auto_renewal::set(
        &services.pool,
        meta,
        &org,
        body.product_ids,
        setting,
        true,
        crate::db::now(),
    )
    .await?;
    Ok(HttpResponse::Ok().json(ProductList {
        data: products.iter().map(ProductView::from).collect(),
        next_cursor: None,
    }))
}
