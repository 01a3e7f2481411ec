use actix_web::{HttpResponse, get, web};

use crate::context::Services;
use crate::domain::domains::Contacts;
use crate::domain::ids::DomainId;
use crate::error::AppError;
use crate::error::responses::{Common, OrgAccess, Unauthenticated};
use crate::http::org::{DomainsRead, InOrg, Requirement};
use crate::services::domains;

/// A domain's contacts: owner (registrant), admin and tech
///
/// Holders of `domains`. Tokens need `domains:read`.
#[utoipa::path(
    operation_id = "get_domain_contacts",
    tag = "domains",
    security(("bearer_jwt" = []), ("personal_token" = [])),
    params(("org_id" = String, Path, description = "The organisation's id (`org_…`)", example = "org_01936d7a6b2f7c3e9d4a5b6c7d8e9f00"), ("domain_id" = String, Path, description = "The domain's id (`dom_…`)", example = "dom_01936d7a6b2f7c3e9d4a5b6c7d8e9f20")),
    extensions(("x-leman-permission" = json!(DomainsRead::NEED)), ("x-leman-scope" = json!(DomainsRead::SCOPE))),
    responses(
        (status = 200, description = "The contacts", body = Contacts, example = json!({"owner": {"name": "Alice Muster", "organization": "Muster AG", "address_line1": "Rue du Lac 1", "address_line2": null, "postal_code": "1003", "city": "Lausanne", "country": "CH", "email": "alice@example.ch", "phone": "+41211234567"}, "admin": {"name": "Alice Muster", "organization": "Muster AG", "address_line1": "Rue du Lac 1", "address_line2": null, "postal_code": "1003", "city": "Lausanne", "country": "CH", "email": "alice@example.ch", "phone": "+41211234567"}, "tech": {"name": "Tech Team", "organization": null, "address_line1": "Rue du Lac 1", "address_line2": null, "postal_code": "1003", "city": "Lausanne", "country": "CH", "email": "tech@example.ch", "phone": null}})),
        Unauthenticated,
        OrgAccess,
        Common,
    )
)]
#[get("/orgs/{org_id}/domains/{domain_id}/contacts")]
pub async fn get_domain_contacts(
    org: InOrg<DomainsRead>,
    services: web::Data<Services>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let id = DomainId::parse(&path.1)?;
    let contacts = domains::contacts(&services, &org, id).await?;
    Ok(HttpResponse::Ok().json(contacts))
}
