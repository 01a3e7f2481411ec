use actix_web::{HttpResponse, get, web};

use crate::context::Services;
use crate::domain::ids::ProductId;
use crate::error::AppError;
use crate::error::responses::{Common, OrgAccess, Unauthenticated};
use crate::http::org::{InOrg, ProductsRead, Requirement};
use crate::services::invoices;
use crate::views::products::ProductView;

/// One product
///
/// Holders of `products`. Tokens need `products:read`.
#[utoipa::path(
    operation_id = "get_product",
    tag = "billing",
    security(("bearer_jwt" = []), ("personal_token" = [])),
    params(("org_id" = String, Path, description = "The organisation's id (`org_…`)", example = "org_01936d7a6b2f7c3e9d4a5b6c7d8e9f00"), ("product_id" = String, Path, description = "The product's id (`prd_…`)", example = "prd_01936d7a6b2f7c3e9d4a5b6c7d8e9f10")),
    extensions(("x-leman-permission" = json!(ProductsRead::NEED)), ("x-leman-scope" = json!(ProductsRead::SCOPE))),
    responses(
        (status = 200, description = "The product", body = ProductView),
        Unauthenticated,
        OrgAccess,
        Common,
    )
)]
#[get("/orgs/{org_id}/products/{product_id}")]
pub async fn get_product(
    org: InOrg<ProductsRead>,
    services: web::Data<Services>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let product_id = ProductId::parse(&path.1)?;
    let p = invoices::get_product(&services.pool, &org, product_id).await?;
    Ok(HttpResponse::Ok().json(ProductView::new(&p, &services.catalog)))
}
