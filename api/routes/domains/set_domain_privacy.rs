use actix_web::{HttpResponse, put, web};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::context::Services;
use crate::domain::actor::Origin;
use crate::domain::ids::DomainId;
use crate::error::AppError;
use crate::error::responses::{Common, JsonBody, OrgAccess, Unauthenticated};
use crate::http::Json;
use crate::http::org::{DomainsWrite, InOrg, Requirement};
use crate::services::domains;
use crate::views::domains::DomainView;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"enabled": true}))]
pub struct DomainPrivacySetting {
    /// On or off.
    pub enabled: bool,
}

/// Turn a domain's WHOIS privacy on or off
///
/// Turn WHOIS privacy on or off, at the registry then here, where the extension offers it (`privacy_available`; `.ch` and `.li` do). Only active or expired domains. Holders of `domains`. Tokens need `domains:write`.
#[utoipa::path(
    operation_id = "set_domain_privacy",
    tag = "domains",
    security(("bearer_jwt" = []), ("personal_token" = [])),
    params(("org_id" = String, Path, description = "The organisation's id (`org_…`)", example = "org_01936d7a6b2f7c3e9d4a5b6c7d8e9f00"), ("domain_id" = String, Path, description = "The domain's id (`dom_…`)", example = "dom_01936d7a6b2f7c3e9d4a5b6c7d8e9f20")),
    extensions(("x-leman-permission" = json!(DomainsWrite::NEED)), ("x-leman-scope" = json!(DomainsWrite::SCOPE))),
    request_body = DomainPrivacySetting,
    responses(
        (status = 200, description = "The domain, as set", body = DomainView),
        Unauthenticated,
        OrgAccess,
        (status = 409, description = "The extension offers no privacy (`privacy_not_available`), the domain is not active or expired (`domain_not_manageable`), changed meanwhile (`domain_changed`), or the registry refused (`registry_prohibited`, `registry_refused`, `not_at_registry`)", body = crate::error::Problem, content_type = "application/problem+json",
         example = json!({"type": "urn:leman:problem:privacy_not_available", "title": "Conflict", "status": 409, "detail": "The .de extension does not offer WHOIS privacy.", "code": "privacy_not_available"})),
        (status = 503, description = "The registry did not answer; nothing changed (`registry_unavailable`)", body = crate::error::Problem, content_type = "application/problem+json", headers(("Retry-After" = u64, description = "Seconds to wait")),
         example = json!({"type": "urn:leman:problem:registry_unavailable", "title": "Service Unavailable", "status": 503, "detail": "The domain registry did not answer; nothing was changed. Try again shortly.", "code": "registry_unavailable"})),
        JsonBody,
        Common,
    )
)]
#[put("/orgs/{org_id}/domains/{domain_id}/privacy")]
pub async fn set_domain_privacy(
    org: InOrg<DomainsWrite>,
    services: web::Data<Services>,
    meta: Origin,
    path: web::Path<(String, String)>,
    body: Json<DomainPrivacySetting>,
) -> Result<HttpResponse, AppError> {
    let id = DomainId::parse(&path.1)?;
    let (d, auto) = domains::set_privacy(&services, meta, &org, id, body.0.enabled).await?;
    Ok(HttpResponse::Ok().json(DomainView::new(&d, auto, &services.catalog.extensions)))
}
