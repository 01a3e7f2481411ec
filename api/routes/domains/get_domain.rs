use actix_web::{HttpResponse, get, web};

use crate::context::Services;
use crate::domain::ids::DomainId;
use crate::error::AppError;
use crate::error::responses::{Common, OrgAccess, Unauthenticated};
use crate::http::org::{DomainsRead, InOrg, Requirement};
use crate::services::domains;
use crate::views::domains::DomainView;

/// One domain
///
/// Holders of `domains`. Tokens need `domains:read`.
#[utoipa::path(
    operation_id = "get_domain",
    tag = "domains",
    security(("bearer_jwt" = []), ("personal_token" = [])),
    params(("org_id" = String, Path, description = "The organisation's id (`org_…`)", example = "org_01936d7a6b2f7c3e9d4a5b6c7d8e9f00"), ("domain_id" = String, Path, description = "The domain's id (`dom_…`)", example = "dom_01936d7a6b2f7c3e9d4a5b6c7d8e9f20")),
    extensions(("x-leman-permission" = json!(DomainsRead::NEED)), ("x-leman-scope" = json!(DomainsRead::SCOPE))),
    responses(
        (status = 200, description = "The domain", body = DomainView),
        Unauthenticated,
        OrgAccess,
        Common,
    )
)]
#[get("/orgs/{org_id}/domains/{domain_id}")]
pub async fn get_domain(
    org: InOrg<DomainsRead>,
    services: web::Data<Services>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let id = DomainId::parse(&path.1)?;
    let (d, auto) = domains::get(&services, &org, id).await?;
    Ok(HttpResponse::Ok().json(DomainView::new(&d, auto, &services.catalog.extensions)))
}
