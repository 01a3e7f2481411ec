use actix_web::{HttpResponse, delete, web};

use crate::context::Services;
use crate::domain::actor::Origin;
use crate::domain::ids::ProductId;
use crate::error::AppError;
use crate::error::responses::{Common, OrgAccess, Unauthenticated};
use crate::http::org::{InOrg, ProductsWrite, Requirement};
use crate::services::cancellations;

/// Withdraw a product's cancellation
///
/// Withdraw a product's cancellation: one still waiting for its mailed confirmation, or one
/// confirmed for the end of the term that has not taken effect yet (the product is `active`
/// again; automatic renewal stays off until turned on again). Holders of `products`. Tokens need
/// `products:write`.
#[utoipa::path(
    operation_id = "withdraw_cancellation",
    tag = "billing",
    security(("bearer_jwt" = []), ("personal_token" = [])),
    params(("org_id" = String, Path, description = "The organisation's id (`org_…`)", example = "org_01936d7a6b2f7c3e9d4a5b6c7d8e9f00"), ("product_id" = String, Path, description = "The product's id (`prd_…`)", example = "prd_01936d7a6b2f7c3e9d4a5b6c7d8e9f10")),
    extensions(("x-leman-permission" = json!(ProductsWrite::NEED)), ("x-leman-scope" = json!(ProductsWrite::SCOPE))),
    responses(
        (status = 204, description = "Withdrawn"),
        Unauthenticated,
        OrgAccess,
        (status = 409, description = "No cancellation to withdraw: none asked, or it already took effect (`no_cancellation`)", body = crate::error::Problem, content_type = "application/problem+json",
         example = json!({"type": "urn:leman:problem:no_cancellation", "title": "Conflict", "status": 409, "detail": "This product has no cancellation to withdraw (none asked, or it already took effect).", "code": "no_cancellation"})),
        Common,
    )
)]
#[delete("/orgs/{org_id}/products/{product_id}/cancellation")]
pub async fn withdraw_cancellation(
    org: InOrg<ProductsWrite>,
    services: web::Data<Services>,
    meta: Origin,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let product_id = ProductId::parse(&path.1)?;
    cancellations::withdraw(&services, meta, &org, product_id).await?;
    Ok(HttpResponse::NoContent().finish())
}
