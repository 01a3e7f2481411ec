use actix_web::{HttpResponse, delete, web};

use crate::auth::Caller;
use crate::context::Services;
use crate::domain::actor::Origin;
use crate::domain::ids::OrgId;
use crate::domain::orgs::Need;
use crate::error::AppError;
use crate::error::responses::{Busy, Common, OrgSensitive, Unauthenticated};
use crate::services::org_deletion;
use crate::services::orgs::OrgRequest;
use crate::services::prerequisites::Outcome;
use crate::views::prerequisites::PrerequisitesUnmet;

/// Delete the organisation
///
/// Admins and legal representatives, after a recent authentication (`POST
/// /v1/auth/reauthenticate`). Refused while anything is left in it (each condition is listed, as
/// `GET …/deletion-check` lists them); otherwise it leaves every member's list, and its invoices
/// and activity stay archived, read-only, for the legal retention period. The members' accounts
/// stay.
#[utoipa::path(
    operation_id = "delete_organization",
    tag = "organizations",
    security(("bearer_jwt" = [])),
    params(("org_id" = String, Path, description = "The organisation's id (`org_…`)", example = "org_01936d7a6b2f7c3e9d4a5b6c7d8e9f00")),
    extensions(("x-leman-permission" = json!(Need::Admin))),
    responses(
        (status = 204, description = "The organisation is deleted"),
        Unauthenticated,
        OrgSensitive,
        (status = 409, description = "Something must be done first; `unmet` lists each condition (`prerequisites_unmet`)", body = PrerequisitesUnmet, content_type = "application/problem+json"),
        Busy,
        Common,
    )
)]
#[delete("/orgs/{org_id}")]
pub async fn delete_organization(
    caller: Caller,
    services: web::Data<Services>,
    meta: Origin,
    org_id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    // Not `InOrg`: that checks a token scope, and no token may delete an organisation (the
    // service refuses them as a sensitive action, after the membership check).
    let org = OrgRequest {
        caller,
        org_id: OrgId::parse(&org_id)?,
        need: Need::Admin,
    };
    let years = services.config.org_retention_years;
    match org_deletion::delete(&services.pool, meta, &org, years).await? {
        Outcome::Deleted => Ok(HttpResponse::NoContent().finish()),
        Outcome::Blocked(unmet) => Ok(PrerequisitesUnmet::response(
            "The organisation cannot be deleted yet; see `unmet`.",
            unmet,
        )),
    }
}
