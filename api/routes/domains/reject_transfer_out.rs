use actix_web::{HttpResponse, post, web};

use crate::context::Services;
use crate::domain::actor::Origin;
use crate::domain::ids::DomainId;
use crate::error::AppError;
use crate::error::responses::{Common, OrgSensitive, Unauthenticated};
use crate::http::org::{DomainsWrite, InOrg, Requirement};
use crate::services::transfer_out;
use crate::views::transfer_out::TransferOutView;

/// Reject a requested transfer out
///
/// Reject a requested transfer (R52): only while `requested`, before the registry approves it
/// at `completes_at`. The registry refuses the gaining registrar's request and the code is
/// void; the state is `rejected`. Recent authentication needed (tokens cannot). Holders of
/// `domains`.
#[utoipa::path(
    operation_id = "reject_transfer_out",
    tag = "domains",
    security(("bearer_jwt" = []), ("personal_token" = [])),
    params(("org_id" = String, Path, description = "The organisation's id (`org_…`)", example = "org_01936d7a6b2f7c3e9d4a5b6c7d8e9f00"), ("domain_id" = String, Path, description = "The domain's id (`dom_…`)", example = "dom_01936d7a6b2f7c3e9d4a5b6c7d8e9f20")),
    extensions(("x-leman-permission" = json!(DomainsWrite::NEED)), ("x-leman-scope" = json!(DomainsWrite::SCOPE))),
    responses(
        (status = 200, description = "Rejected", body = TransferOutView),
        Unauthenticated,
        OrgSensitive,
        (status = 409, description = "No transfer is requested (`no_transfer_requested`), the domain changed meanwhile (`domain_changed`), or the registry refused (`registry_refused`: the transfer completed meanwhile)", body = crate::error::Problem, content_type = "application/problem+json",
         example = json!({"type": "urn:leman:problem:no_transfer_requested", "title": "Conflict", "status": 409, "detail": "No registrar is asking for this domain: there is nothing to reject.", "code": "no_transfer_requested"})),
        (status = 503, description = "The registry did not answer; nothing changed (`registry_unavailable`)", body = crate::error::Problem, content_type = "application/problem+json", headers(("Retry-After" = u64, description = "Seconds to wait")),
         example = json!({"type": "urn:leman:problem:registry_unavailable", "title": "Service Unavailable", "status": 503, "detail": "The domain registry did not answer; nothing was changed. Try again shortly.", "code": "registry_unavailable"})),
        Common,
    )
)]
#[post("/orgs/{org_id}/domains/{domain_id}/transfer-out/reject")]
pub async fn reject_transfer_out(
    org: InOrg<DomainsWrite>,
    services: web::Data<Services>,
    meta: Origin,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let domain_id = DomainId::parse(&path.1)?;
    let overview = transfer_out::reject(&services, meta, &org, domain_id).await?;
    Ok(HttpResponse::Ok().json(TransferOutView::from(&overview)))
}
