use actix_web::{HttpResponse, post, web};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::auth::ratelimit::IpRateLimited;
use crate::context::Services;
use crate::domain::actor::Origin;
use crate::error::AppError;
use crate::error::responses::{Common, RateLimited, TokenBody};
use crate::http::Json;
use crate::services::domains;
use crate::views::domains::OwnerChangeView;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"token": "q0Zp7m3Vt2kX9sLr4Wc8yHb1NfJd6Ga5Ue0Ao3Ri7Ks"}))]
pub struct ConfirmDomainOwnerChange {
    /// The `token` query parameter of the link mailed to the current or the new owner.
    pub token: String,
}

/// Confirm a change of a domain's owner with a mailed token
///
/// Confirm a change of a domain's owner with the token of the link mailed to the current owner
/// or to the new one (single use, valid 7 days; no authentication: the token is the proof). The
/// change applies, at the registry then here, once both have confirmed; the extension's lock
/// after a change of owner runs from then.
#[utoipa::path(
    operation_id = "confirm_domain_owner_change",
    tag = "domains",
    request_body = ConfirmDomainOwnerChange,
    responses(
        (status = 200, description = "Confirmed: `applied` when both owners have, else still `awaiting_confirmation`", body = OwnerChangeView),
        (status = 409, description = "The domain can no longer be changed (`domain_not_manageable`), changed meanwhile (`domain_changed`), or the registry refused (`registry_prohibited`, `registry_refused`, `not_at_registry`)", body = crate::error::Problem, content_type = "application/problem+json",
         example = json!({"type": "urn:leman:problem:domain_not_manageable", "title": "Conflict", "status": 409, "detail": "A domain transferred_out cannot be changed: only active or expired ones can.", "code": "domain_not_manageable"})),
        (status = 503, description = "The registry did not answer; nothing changed and the link is still usable (`registry_unavailable`)", body = crate::error::Problem, content_type = "application/problem+json", headers(("Retry-After" = u64, description = "Seconds to wait")),
         example = json!({"type": "urn:leman:problem:registry_unavailable", "title": "Service Unavailable", "status": 503, "detail": "The domain registry did not answer; nothing was changed. Try again shortly.", "code": "registry_unavailable"})),
        TokenBody,
        RateLimited,
        Common,
    )
)]
#[post("/domain-owner-changes/confirm")]
pub async fn confirm_domain_owner_change(
    _limited: IpRateLimited,
    services: web::Data<Services>,
    meta: Origin,
    body: Json<ConfirmDomainOwnerChange>,
) -> Result<HttpResponse, AppError> {
    let (change, contacts) = domains::confirm_owner_change(&services, meta, body.0.token).await?;
    Ok(HttpResponse::Ok().json(OwnerChangeView::new(&change, contacts)))
}
