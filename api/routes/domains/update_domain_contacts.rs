use actix_web::{HttpResponse, put, web};

use crate::context::Services;
use crate::domain::actor::Origin;
use crate::domain::domains::Contacts;
use crate::domain::ids::DomainId;
use crate::error::AppError;
use crate::error::responses::{Common, JsonBody, OrgAccess, Unauthenticated};
use crate::http::Json;
use crate::http::org::{DomainsWrite, InOrg, Requirement};
use crate::services::domains::{self, ContactsOutcome};
use crate::views::domains::OwnerChangeView;

/// Change a domain's contacts
///
/// Admin and tech contacts, and the owner's address or phone (same name, organisation and email),
/// change at once at the registry: 200 with the contacts. A change of owner (another name,
/// organisation or email) must be confirmed by mail by the current owner and by the new one, each
/// with its own link valid 7 days: 202 with the pending change; a newer request replaces it. Only
/// active or expired domains. Holders of `domains`. Tokens need `domains:write`.
#[utoipa::path(
    operation_id = "update_domain_contacts",
    tag = "domains",
    security(("bearer_jwt" = []), ("personal_token" = [])),
    params(("org_id" = String, Path, description = "The organisation's id (`org_…`)", example = "org_01936d7a6b2f7c3e9d4a5b6c7d8e9f00"), ("domain_id" = String, Path, description = "The domain's id (`dom_…`)", example = "dom_01936d7a6b2f7c3e9d4a5b6c7d8e9f20")),
    extensions(("x-leman-permission" = json!(DomainsWrite::NEED)), ("x-leman-scope" = json!(DomainsWrite::SCOPE))),
    request_body = Contacts,
    responses(
        (status = 200, description = "Applied at the registry", body = Contacts, example = json!({"owner": {"name": "Alice Muster", "organization": "Muster AG", "address_line1": "Rue du Lac 1", "address_line2": null, "postal_code": "1003", "city": "Lausanne", "country": "CH", "email": "alice@example.ch", "phone": "+41211234567"}, "admin": {"name": "Alice Muster", "organization": "Muster AG", "address_line1": "Rue du Lac 1", "address_line2": null, "postal_code": "1003", "city": "Lausanne", "country": "CH", "email": "alice@example.ch", "phone": "+41211234567"}, "tech": {"name": "Tech Team", "organization": null, "address_line1": "Rue du Lac 1", "address_line2": null, "postal_code": "1003", "city": "Lausanne", "country": "CH", "email": "tech@example.ch", "phone": null}})),
        (status = 202, description = "A change of owner waits for both owners' confirmations", body = OwnerChangeView),
        Unauthenticated,
        OrgAccess,
        (status = 409, description = "The domain is not active or expired (`domain_not_manageable`), changed meanwhile (`domain_changed`), or the registry refused (`registry_prohibited`, `registry_refused`, `not_at_registry`)", body = crate::error::Problem, content_type = "application/problem+json",
         example = json!({"type": "urn:leman:problem:domain_not_manageable", "title": "Conflict", "status": 409, "detail": "A domain transferred_out cannot be changed: only active or expired ones can.", "code": "domain_not_manageable"})),
        (status = 503, description = "The registry did not answer; nothing changed (`registry_unavailable`)", body = crate::error::Problem, content_type = "application/problem+json", headers(("Retry-After" = u64, description = "Seconds to wait")),
         example = json!({"type": "urn:leman:problem:registry_unavailable", "title": "Service Unavailable", "status": 503, "detail": "The domain registry did not answer; nothing was changed. Try again shortly.", "code": "registry_unavailable"})),
        JsonBody,
        Common,
    )
)]
#[put("/orgs/{org_id}/domains/{domain_id}/contacts")]
pub async fn update_domain_contacts(
    org: InOrg<DomainsWrite>,
    services: web::Data<Services>,
    meta: Origin,
    path: web::Path<(String, String)>,
    body: Json<Contacts>,
) -> Result<HttpResponse, AppError> {
    let id = DomainId::parse(&path.1)?;
    match domains::update_contacts(&services, meta, &org, id, body.0).await? {
        ContactsOutcome::Applied(c) => Ok(HttpResponse::Ok().json(c)),
        ContactsOutcome::Pending(change) => {
            Ok(HttpResponse::Accepted().json(OwnerChangeView::new(&change, None)))
        }
    }
}
