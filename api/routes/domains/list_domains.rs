use actix_web::{HttpResponse, get, web};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::context::Services;
use crate::domain::billing_states::filter;
use crate::domain::domains::DomainStatus;
use crate::error::AppError;
use crate::error::responses::{Common, OrgAccess, Query as QueryErrors, Unauthenticated};
use crate::http::org::{DomainsRead, InOrg, Requirement};
use crate::http::{PageParams, Query};
use crate::models::domains::DomainFilter;
use crate::services::domains;
use crate::views::domains::{DomainList, DomainView};

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DomainQuery {
    /// Only these statuses (repeat the key for several): `registering`, `active`, `expired`,
    /// `failed`, `transferred_out`, `cancelled`.
    #[serde(default, deserialize_with = "filter::values")]
    #[param(style = Form, explode, example = json!(["active"]))]
    pub status: Vec<DomainStatus>,
    /// Only this extension, without the dot (`ch`).
    #[param(example = "ch", max_length = 63)]
    pub tld: Option<String>,
    /// Only domains expiring before this instant.
    #[param(example = "2027-01-01T00:00:00Z")]
    #[serde(default, deserialize_with = "crate::http::query::parsed")]
    pub expires_before: Option<DateTime<Utc>>,
    /// Part of the name, as typed (ASCII or Unicode: `müller` finds `müller.ch`).
    #[param(example = "muster", max_length = 253)]
    pub q: Option<String>,
}

/// The organisation's domains, by name
///
/// Holders of `domains`. Tokens need `domains:read`.
#[utoipa::path(
    operation_id = "list_domains",
    tag = "domains",
    security(("bearer_jwt" = []), ("personal_token" = [])),
    params(("org_id" = String, Path, description = "The organisation's id (`org_…`)", example = "org_01936d7a6b2f7c3e9d4a5b6c7d8e9f00"), PageParams, DomainQuery),
    extensions(("x-leman-permission" = json!(DomainsRead::NEED)), ("x-leman-scope" = json!(DomainsRead::SCOPE))),
    responses(
        (status = 200, description = "A page of domains", body = DomainList),
        Unauthenticated,
        OrgAccess,
        QueryErrors,
        Common,
    )
)]
#[get("/orgs/{org_id}/domains")]
pub async fn list_domains(
    org: InOrg<DomainsRead>,
    services: web::Data<Services>,
    page: Query<PageParams>,
    query: Query<DomainQuery>,
) -> Result<HttpResponse, AppError> {
    let q = query.0;
    let search =
        q.q.map(|s| s.trim().to_lowercase())
            .filter(|s| !s.is_empty());
    if search.as_ref().is_some_and(|s| s.chars().count() > 253) {
        return Err(AppError::field(
            "q",
            "too_long",
            "must be at most 253 characters",
        ));
    }
    if q.tld.as_ref().is_some_and(|t| t.chars().count() > 63) {
        return Err(AppError::field(
            "tld",
            "too_long",
            "must be at most 63 characters",
        ));
    }
    let tld = q
        .tld
        .map(|t| t.trim().trim_start_matches('.').to_ascii_lowercase())
        .filter(|t| !t.is_empty());
    let filter = DomainFilter {
        statuses: q.status,
        tld,
        expires_before: q.expires_before.map(|t| t.naive_utc()),
        search,
    };
    let (rows, next_cursor) = domains::list(&services, &org, filter, page.0).await?;
    let ext = &services.catalog.extensions;
    Ok(HttpResponse::Ok().json(DomainList {
        data: rows
            .iter()
            .map(|(d, auto)| DomainView::new(d, *auto, ext))
            .collect(),
        next_cursor,
    }))
}
