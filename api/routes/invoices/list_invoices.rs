use actix_web::{HttpResponse, get, web};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::context::Services;
use crate::domain::billing_states::{InvoiceStatus, filter};
use crate::error::AppError;
use crate::error::responses::{Common, OrgAccess, Query as QueryErrors, Unauthenticated};
use crate::http::org::{AccountingReads, InOrg, Requirement};
use crate::http::{PageParams, Query};
use crate::services::invoices;
use crate::views::invoices::{InvoiceList, InvoiceView};

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InvoiceQuery {
    /// Only these statuses (repeat the key for several).
    #[serde(default, deserialize_with = "filter::values")]
    #[param(style = Form, explode, example = json!(["paid", "refunded"]))]
    pub status: Vec<InvoiceStatus>,
    /// First day of issue to include, `YYYY-MM-DD` (UTC).
    #[param(value_type = Option<String>, format = Date, example = "2026-01-01")]
    #[serde(default, deserialize_with = "crate::http::query::present")]
    pub from: Option<String>,
    /// Last day of issue to include, `YYYY-MM-DD` (UTC).
    #[param(value_type = Option<String>, format = Date, example = "2026-12-31")]
    #[serde(default, deserialize_with = "crate::http::query::present")]
    pub to: Option<String>,
}

/// List the organisation's invoices, newest first
///
/// The organisation's invoices, newest first, with their lines, filtered by status and by
/// period of issue (R25). Holders of `accounting` (R23). Tokens need `billing:read`.
#[utoipa::path(
    operation_id = "list_invoices",
    tag = "billing",
    security(("bearer_jwt" = []), ("personal_token" = [])),
    params(("org_id" = String, Path, description = "The organisation's id (`org_…`)", example = "org_01936d7a6b2f7c3e9d4a5b6c7d8e9f00"), PageParams, InvoiceQuery),
    extensions(("x-leman-permission" = json!(AccountingReads::NEED)), ("x-leman-scope" = json!(AccountingReads::SCOPE))),
    responses(
        (status = 200, description = "A page of invoices", body = InvoiceList),
        Unauthenticated,
        OrgAccess,
        QueryErrors,
        Common,
    )
)]
#[get("/orgs/{org_id}/invoices")]
pub async fn list_invoices(
    org: InOrg<AccountingReads>,
    services: web::Data<Services>,
    page: Query<PageParams>,
    query: Query<InvoiceQuery>,
) -> Result<HttpResponse, AppError> {
    let q = query.0;
    let (rows, next_cursor) =
        invoices::list(&services.pool, &org, q.status, q.from, q.to, page.0).await?;
    Ok(HttpResponse::Ok().json(InvoiceList {
        data: rows.iter().map(|(i, l)| InvoiceView::new(i, l)).collect(),
        next_cursor,
    }))
}
