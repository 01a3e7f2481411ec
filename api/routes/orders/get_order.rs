use actix_web::{HttpResponse, get, web};

use crate::context::Services;
use crate::domain::ids::OrderId;
use crate::error::AppError;
use crate::error::responses::{Common, OrgAccess, Unauthenticated};
use crate::http::org::{AccountingReads, InOrg, Requirement};
use crate::services::orders;
use crate::views::orders::OrderView;

/// One order with its products
///
/// Holders of `accounting`. Tokens need `billing:read`.
#[utoipa::path(
    operation_id = "get_order",
    tag = "billing",
    security(("bearer_jwt" = []), ("personal_token" = [])),
    params(("org_id" = String, Path, description = "The organisation's id (`org_…`)", example = "org_01936d7a6b2f7c3e9d4a5b6c7d8e9f00"), ("order_id" = String, Path, description = "The order's id (`ord_…`)", example = "ord_01936d7a6b2f7c3e9d4a5b6c7d8e9f11")),
    extensions(("x-leman-permission" = json!(AccountingReads::NEED)), ("x-leman-scope" = json!(AccountingReads::SCOPE))),
    responses(
        (status = 200, description = "The order", body = OrderView),
        Unauthenticated,
        OrgAccess,
        Common,
    )
)]
#[get("/orgs/{org_id}/orders/{order_id}")]
pub async fn get_order(
    org: InOrg<AccountingReads>,
    services: web::Data<Services>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let order_id = OrderId::parse(&path.1)?;
    let (order, mut products) = orders::get(&services.pool, &org, order_id).await?;
    // A renewal order renews products it did not create: they and their terms show too.
    let (renewed, terms) = crate::services::renewals::order_terms(&services.pool, &order).await?;
    products.extend(renewed);
    Ok(HttpResponse::Ok().json(OrderView::new(&order, &products, None).with_renewals(&terms)))
}
