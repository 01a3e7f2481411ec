use actix_web::{HttpResponse, put, web};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::context::Services;
use crate::domain::actor::Origin;
use crate::domain::ids::ProductId;
use crate::error::AppError;
use crate::error::responses::{Common, OrgAccess, Unauthenticated};
use crate::http::Json;
use crate::http::org::{AccountingWrites, InOrg, Requirement};
use crate::services::auto_renewal::{self, Setting};
use crate::views::products::ProductView;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"enabled": true, "payment_method_id": "pm_01936d7a6b2f7c3e9d4a5b6c7d8e9f05"}))]
pub struct AutoRenewalSetting {
    /// On or off.
    pub enabled: bool,
    /// With `enabled`: the saved card that pays (omitted: the organisation's default method, if
    /// it is a card).
    #[schema(example = "pm_01936d7a6b2f7c3e9d4a5b6c7d8e9f05", max_length = 40)]
    pub payment_method_id: Option<String>,
}

/// Turn a product's automatic renewal on or off (R39–R41)
///
/// Only a saved card (not removed, not expired) pays it: the one named, or the organisation's
/// default method if that is a card. The first charge is made 14 days before the expiry, so turning
/// it on within 14 days of the expiry is refused: renew the product first. Turning it off is always
/// allowed. Holders of `accounting`. Tokens need `billing:write`.
#[utoipa::path(
    operation_id = "set_auto_renewal",
    tag = "billing",
    security(("bearer_jwt" = []), ("personal_token" = [])),
    params(("org_id" = String, Path, description = "The organisation's id (`org_…`)", example = "org_01936d7a6b2f7c3e9d4a5b6c7d8e9f00"), ("product_id" = String, Path, description = "The product's id (`prd_…`)", example = "prd_01936d7a6b2f7c3e9d4a5b6c7d8e9f10")),
    extensions(("x-leman-permission" = json!(AccountingWrites::NEED)), ("x-leman-scope" = json!(AccountingWrites::SCOPE))),
    request_body = AutoRenewalSetting,
    responses(
        (status = 200, description = "The product, with its automatic renewal as set", body = ProductView),
        Unauthenticated,
        OrgAccess,
        (status = 400, description = "The body is not well-formed JSON (`malformed_json`)", body = crate::error::Problem, content_type = "application/problem+json",
         example = json!({"type": "urn:leman:problem:malformed_json", "title": "Bad Request", "status": 400, "detail": "The body is not valid JSON: EOF while parsing an object at line 1 column 1.", "code": "malformed_json"})),
        (status = 409, description = "The product expires within 14 days: renew it first (`auto_renewal_too_late`); or it is not active (`product_not_renewable`)", body = crate::error::Problem, content_type = "application/problem+json",
         example = json!({"type": "urn:leman:problem:auto_renewal_too_late", "title": "Conflict", "status": 409, "detail": "This product expires within 14 days: automatic renewal would come too late. Renew it first (POST /v1/orgs/{org_id}/renewals); automatic renewal can be turned on for the next term.", "code": "auto_renewal_too_late"})),
        (status = 413, description = "The body is larger than 1 MiB (`payload_too_large`)", body = crate::error::Problem, content_type = "application/problem+json",
         example = json!({"type": "urn:leman:problem:payload_too_large", "title": "Payload Too Large", "status": 413, "detail": "The request body exceeds 1048576 bytes.", "code": "payload_too_large"})),
        (status = 415, description = "The body is not `application/json` (`unsupported_media_type`)", body = crate::error::Problem, content_type = "application/problem+json",
         example = json!({"type": "urn:leman:problem:unsupported_media_type", "title": "Unsupported Media Type", "status": 415, "detail": "Send the body as application/json.", "code": "unsupported_media_type"})),
        (status = 422, description = "Wrong types, missing or unknown fields (`validation_failed`); card data (`card_data_not_accepted`); no saved card to pay: the method named (or the default) is not a card, removed or expired (`auto_renewal_needs_card`)", body = crate::error::Problem, content_type = "application/problem+json",
         example = json!({"type": "urn:leman:problem:auto_renewal_needs_card", "title": "Unprocessable Content", "status": 422, "detail": "Only a saved card can pay automatic renewals: this saved method is not a card.", "code": "auto_renewal_needs_card", "errors": [{"field": "/payment_method_id", "code": "auto_renewal_needs_card", "message": "this saved method is not a card"}]})),
        Common,
    )
)]
#[put("/orgs/{org_id}/products/{product_id}/auto-renewal")]
pub async fn set_auto_renewal(
    org: InOrg<AccountingWrites>,
    services: web::Data<Services>,
    meta: Origin,
    path: web::Path<(String, String)>,
    body: Json<AutoRenewalSetting>,
) -> Result<HttpResponse, AppError> {
    let product_id = ProductId::parse(&path.1)?;
    let body = body.0;
    let setting = Setting {
        enabled: body.enabled,
        payment_method_id: body.payment_method_id,
    };
    let products = auto_renewal::set(
        &services.pool,
        meta,
        &org,
        vec![product_id.into_inner()],
        setting,
        false,
        crate::db::now(),
    )
    .await?;
    let p = products
        .first()
        .ok_or_else(|| AppError::not_found("No such product."))?;
    Ok(HttpResponse::Ok().json(ProductView::from(p)))
}
