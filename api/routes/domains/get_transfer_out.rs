use actix_web::{HttpResponse, get, web};

use crate::context::Services;
use crate::domain::ids::DomainId;
use crate::error::AppError;
use crate::error::responses::{Common, OrgAccess, Unauthenticated};
use crate::http::org::{DomainsRead, InOrg, Requirement};
use crate::services::transfer_out;
use crate::views::transfer_out::TransferOutView;

/// Get a domain's transfer out
///
/// A domain's transfer out: `none`, `code_sent`, `requested` (a registrar asked for it: the
/// registry approves it at `completes_at` unless it is rejected; nothing can bring that
/// forward, R52), `completed`, `cancelled` or `rejected`, with its dates and where the code
/// went (masked). Never the code. Holders of `domains`; tokens need `domains:read`.
#[utoipa::path(
    operation_id = "get_transfer_out",
    tag = "domains",
    security(("bearer_jwt" = []), ("personal_token" = [])),
    params(("org_id" = String, Path, description = "The organisation's id (`org_…`)", example = "org_01936d7a6b2f7c3e9d4a5b6c7d8e9f00"), ("domain_id" = String, Path, description = "The domain's id (`dom_…`)", example = "dom_01936d7a6b2f7c3e9d4a5b6c7d8e9f20")),
    extensions(("x-leman-permission" = json!(DomainsRead::NEED)), ("x-leman-scope" = json!(DomainsRead::SCOPE))),
    responses(
        (status = 200, description = "The transfer-out state", body = TransferOutView),
        Unauthenticated,
        OrgAccess,
        Common,
    )
)]
#[get("/orgs/{org_id}/domains/{domain_id}/transfer-out")]
pub async fn get_transfer_out(
    org: InOrg<DomainsRead>,
    services: web::Data<Services>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let domain_id = DomainId::parse(&path.1)?;
    let overview = transfer_out::get(&services, &org, domain_id).await?;
    Ok(HttpResponse::Ok().json(TransferOutView::from(&overview)))
}
