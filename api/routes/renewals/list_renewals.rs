use actix_web::{HttpResponse, get, web};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::context::Services;
use crate::domain::billing_states::{ProductKind, filter};
use crate::domain::page::parsed;
use crate::error::AppError;
use crate::error::responses::{Common, OrgAccess, Query as QueryErrors, Unauthenticated};
use crate::http::org::{AccountingReads, InOrg, Requirement};
use crate::http::{PageParams, Query};
use crate::services::renewals::{self, ListFilter};
use crate::views::renewals::{RenewalItem, RenewalList};

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RenewalQuery {
    /// `true`: every renewable product; omitted or `false`: those whose term ends within the
    /// next 2 months or has ended (still renewable).
    #[serde(default, deserialize_with = "parsed")]
    #[param(value_type = Option<bool>, example = true)]
    pub all: Option<bool>,
    /// Only these kinds (repeat the key for several), e.g. `domain`, `ksuite`.
    #[serde(default, deserialize_with = "filter::values")]
    #[param(style = Form, explode, example = json!(["domain"]))]
    pub kind: Vec<ProductKind>,
}

/// List the products to renew
///
/// The renewals page (R33): the organisation's products to renew, the soonest expiry first —
/// by default those whose term ends within the next 2 months or has already ended while they
/// can still be renewed (`expired`, `suspended`); `?all=true` every renewable product. Each
/// shows every period it can be renewed for with its price (before VAT), the date it would run
/// to, the latest date it may be renewed to, a renewal awaiting payment, and whether it can
/// change to monthly billing (from the term's end). Products included in a bundle renew with it
/// and are not listed. Holders of `accounting`. Tokens need `billing:read`.
#[utoipa::path(
    operation_id = "list_renewals",
    tag = "renewals",
    security(("bearer_jwt" = []), ("personal_token" = [])),
    params(("org_id" = String, Path, description = "The organisation's id (`org_…`)", example = "org_01936d7a6b2f7c3e9d4a5b6c7d8e9f00"), PageParams, RenewalQuery),
    extensions(("x-leman-permission" = json!(AccountingReads::NEED)), ("x-leman-scope" = json!(AccountingReads::SCOPE))),
    responses(
        (status = 200, description = "A page of products to renew", body = RenewalList),
        Unauthenticated,
        OrgAccess,
        QueryErrors,
        Common,
    )
)]
#[get("/orgs/{org_id}/renewals")]
pub async fn list_renewals(
    org: InOrg<AccountingReads>,
    services: web::Data<Services>,
    page: Query<PageParams>,
    query: Query<RenewalQuery>,
) -> Result<HttpResponse, AppError> {
    let q = query.0;
    let filter = ListFilter {
        all: q.all.unwrap_or(false),
        kinds: q.kind,
    };
    let (rows, next_cursor) = renewals::list(&services, &org, filter, page.0).await?;
    Ok(HttpResponse::Ok().json(RenewalList {
        data: rows.iter().map(RenewalItem::from).collect(),
        next_cursor,
    }))
}
