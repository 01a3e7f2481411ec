use actix_web::{HttpResponse, delete, web};

use crate::context::Services;
use crate::domain::actor::Origin;
use crate::domain::ids::DomainId;
use crate::error::AppError;
use crate::error::responses::{Common, OrgAccess, Unauthenticated};
use crate::http::org::{DomainsWrite, InOrg, Requirement};
use crate::services::transfer_out;

/// Cancel a domain's transfer-out code
///
/// Cancel a transfer-out code: it is cleared at the registry (a registrar can no longer ask with
/// it) and void; the state is `cancelled`. A transfer already requested is refused with
/// `reject_transfer_out` instead. Holders of `domains`; tokens need `domains:write`.
#[utoipa::path(
    operation_id = "cancel_transfer_out",
    tag = "domains",
    security(("bearer_jwt" = []), ("personal_token" = [])),
    params(("org_id" = String, Path, description = "The organisation's id (`org_…`)", example = "org_01936d7a6b2f7c3e9d4a5b6c7d8e9f00"), ("domain_id" = String, Path, description = "The domain's id (`dom_…`)", example = "dom_01936d7a6b2f7c3e9d4a5b6c7d8e9f20")),
    extensions(("x-leman-permission" = json!(DomainsWrite::NEED)), ("x-leman-scope" = json!(DomainsWrite::SCOPE))),
    responses(
        (status = 204, description = "The code is cleared and void"),
        Unauthenticated,
        OrgAccess,
        (status = 409, description = "No code to cancel (`no_transfer_code`), the domain changed meanwhile (`domain_changed`), or the registry refused (`not_at_registry`)", body = crate::error::Problem, content_type = "application/problem+json",
         example = json!({"type": "urn:leman:problem:no_transfer_code", "title": "Conflict", "status": 409, "detail": "This domain has no transfer code to cancel (none sent, or a transfer is already requested: reject it instead).", "code": "no_transfer_code"})),
        (status = 503, description = "The registry did not answer; nothing changed (`registry_unavailable`)", body = crate::error::Problem, content_type = "application/problem+json", headers(("Retry-After" = u64, description = "Seconds to wait")),
         example = json!({"type": "urn:leman:problem:registry_unavailable", "title": "Service Unavailable", "status": 503, "detail": "The domain registry did not answer; nothing was changed. Try again shortly.", "code": "registry_unavailable"})),
        Common,
    )
)]
#[delete("/orgs/{org_id}/domains/{domain_id}/transfer-out")]
pub async fn cancel_transfer_out(
    org: InOrg<DomainsWrite>,
    services: web::Data<Services>,
    meta: Origin,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let domain_id = DomainId::parse(&path.1)?;
    transfer_out::cancel(&services, meta, &org, domain_id).await?;
    Ok(HttpResponse::NoContent().finish())
}
