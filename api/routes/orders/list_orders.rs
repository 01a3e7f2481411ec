use actix_web::{HttpResponse, get, web};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::context::Services;
use crate::domain::billing_states::{OrderStatus, filter};
use crate::error::AppError;
use crate::error::responses::{Common, OrgAccess, Query as QueryErrors, Unauthenticated};
use crate::http::org::{AccountingReads, InOrg, Requirement};
use crate::http::{PageParams, Query};
use crate::services::orders;
use crate::views::orders::{OrderList, OrderView};

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrderQuery {
    /// Only these statuses (repeat the key for several).
    #[serde(default, deserialize_with = "filter::values")]
    #[param(style = Form, explode, example = json!(["open"]))]
    pub status: Vec<OrderStatus>,
}

/// The organisation's orders, newest first
///
/// Holders of `accounting`. Tokens need `billing:read`.
#[utoipa::path(
    operation_id = "list_orders",
    tag = "billing",
    security(("bearer_jwt" = []), ("personal_token" = [])),
    params(("org_id" = String, Path, description = "The organisation's id (`org_…`)", example = "org_01936d7a6b2f7c3e9d4a5b6c7d8e9f00"), PageParams, OrderQuery),
    extensions(("x-leman-permission" = json!(AccountingReads::NEED)), ("x-leman-scope" = json!(AccountingReads::SCOPE))),
    responses(
        (status = 200, description = "A page of orders", body = OrderList),
        Unauthenticated,
        OrgAccess,
        QueryErrors,
        Common,
    )
)]
#[get("/orgs/{org_id}/orders")]
pub async fn list_orders(
    org: InOrg<AccountingReads>,
    services: web::Data<Services>,
    page: Query<PageParams>,
    query: Query<OrderQuery>,
) -> Result<HttpResponse, AppError> {
    let (rows, next_cursor) = orders::list(&services.pool, &org, query.0.status, page.0).await?;
    Ok(HttpResponse::Ok().json(OrderList {
        data: rows
            .iter()
            .map(|(o, items)| OrderView::new(o, items, None))
            .collect(),
        next_cursor,
    }))
}
