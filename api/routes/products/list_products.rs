use actix_web::{HttpResponse, get, web};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::context::Services;
use crate::domain::billing_states::{ProductKind, ProductStatus, filter};
use crate::error::AppError;
use crate::error::responses::{Common, OrgAccess, Query as QueryErrors, Unauthenticated};
use crate::http::org::{InOrg, ProductsRead, Requirement};
use crate::http::{PageParams, Query};
use crate::models::products::ProductFilter;
use crate::services::invoices;
use crate::views::products::{ProductList, ProductView};

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProductQuery {
    /// Only these kinds (repeat the key for several), e.g. `domain`, `ksuite`.
    #[serde(default, deserialize_with = "filter::values")]
    #[param(style = Form, explode, example = json!(["domain"]))]
    pub kind: Vec<ProductKind>,
    /// Only these statuses (repeat the key for several): `pending_payment`, `active`,
    /// `expired`, `suspended`, `cancellation_pending`, `cancelled`.
    #[serde(default, deserialize_with = "filter::values")]
    #[param(style = Form, explode, example = json!(["active"]))]
    pub status: Vec<ProductStatus>,
}

/// The organisation's products, newest first
///
/// Holders of `products`. Tokens need `products:read`.
#[utoipa::path(
    operation_id = "list_products",
    tag = "billing",
    security(("bearer_jwt" = []), ("personal_token" = [])),
    params(("org_id" = String, Path, description = "The organisation's id (`org_…`)", example = "org_01936d7a6b2f7c3e9d4a5b6c7d8e9f00"), PageParams, ProductQuery),
    extensions(("x-leman-permission" = json!(ProductsRead::NEED)), ("x-leman-scope" = json!(ProductsRead::SCOPE))),
    responses(
        (status = 200, description = "A page of products", body = ProductList),
        Unauthenticated,
        OrgAccess,
        QueryErrors,
        Common,
    )
)]
#[get("/orgs/{org_id}/products")]
pub async fn list_products(
    org: InOrg<ProductsRead>,
    services: web::Data<Services>,
    page: Query<PageParams>,
    query: Query<ProductQuery>,
) -> Result<HttpResponse, AppError> {
    let q = query.0;
    let filter = ProductFilter {
        kinds: q.kind,
        statuses: q.status,
    };
    let (rows, next_cursor) = invoices::list_products(&services.pool, &org, filter, page.0).await?;
    Ok(HttpResponse::Ok().json(ProductList {
        data: rows
            .iter()
            .map(|p| ProductView::new(p, &services.catalog))
            .collect(),
        next_cursor,
    }))
}
