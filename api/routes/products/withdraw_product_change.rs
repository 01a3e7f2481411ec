use actix_web::{HttpResponse, delete, web};

use crate::context::Services;
use crate::domain::actor::Origin;
use crate::domain::ids::ProductId;
use crate::error::AppError;
use crate::error::responses::{Busy, Common, OrgAccess, Unauthenticated};
use crate::http::org::{InOrg, ProductsAndAccountingWrite, Requirement};
use crate::services::product_changes;
use crate::views::products::ProductView;

/// Withdraw a product's scheduled change
///
/// Withdraw what is scheduled for the product's term end: a new billing period (R38) and fewer
/// options (R42). An upgrade waiting for payment is not withdrawn here: its order lapses unpaid.
/// Holders of both `products` and `accounting`. Tokens need `billing:write`.
#[utoipa::path(
    operation_id = "withdraw_product_change",
    tag = "billing",
    security(("bearer_jwt" = []), ("personal_token" = [])),
    params(("org_id" = String, Path, description = "The organisation's id (`org_…`)", example = "org_01936d7a6b2f7c3e9d4a5b6c7d8e9f00"), ("product_id" = String, Path, description = "The product's id (`prd_…`)", example = "prd_01936d7a6b2f7c3e9d4a5b6c7d8e9f10")),
    extensions(("x-leman-permission" = json!(ProductsAndAccountingWrite::NEED)), ("x-leman-scope" = json!(ProductsAndAccountingWrite::SCOPE))),
    responses(
        (status = 200, description = "Nothing is scheduled any more: the product", body = ProductView),
        Unauthenticated,
        OrgAccess,
        (status = 409, description = "Nothing is scheduled (`no_scheduled_change`)", body = crate::error::Problem, content_type = "application/problem+json",
         example = json!({"type": "urn:leman:problem:no_scheduled_change", "title": "Conflict", "status": 409, "detail": "Nothing is scheduled for this product's term end.", "code": "no_scheduled_change"})),
        Busy,
        Common,
    )
)]
#[delete("/orgs/{org_id}/products/{product_id}/scheduled-change")]
pub async fn withdraw_product_change(
    org: InOrg<ProductsAndAccountingWrite>,
    services: web::Data<Services>,
    meta: Origin,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let product_id = ProductId::parse(&path.1)?;
    let p = product_changes::withdraw(&services, meta, &org, product_id).await?;
    Ok(HttpResponse::Ok().json(ProductView::new(&p, &services.catalog)))
}
