use actix_web::{HttpResponse, get, web};

use crate::context::Services;
use crate::error::AppError;
use crate::error::responses::{Common, OrgAccess, Unauthenticated};
use crate::http::org::{AdminReads, InOrg, Requirement};
use crate::services::audit::{self, ChainReport};

/// Verify the organisation's activity record chain
///
/// Check that the organisation's activity record is intact: its records form a hash chain, and
/// the first record that was changed, removed or reordered is reported. Admins and legal
/// representatives. Tokens need `orgs:read`.
#[utoipa::path(
    operation_id = "verify_organization_activities",
    tag = "activities",
    security(("bearer_jwt" = []), ("personal_token" = [])),
    params(("org_id" = String, Path, description = "The organisation's id (`org_…`)", example = "org_01936d7a6b2f7c3e9d4a5b6c7d8e9f00")),
    extensions(("x-leman-permission" = json!(AdminReads::NEED)), ("x-leman-scope" = json!(AdminReads::SCOPE))),
    responses(
        (status = 200, description = "The chain's state", body = ChainReport),
        Unauthenticated,
        OrgAccess,
        Common,
    )
)]
#[get("/orgs/{org_id}/activities/verification")]
pub async fn verify_organization_activities(
    org: InOrg<AdminReads>,
    services: web::Data<Services>,
) -> Result<HttpResponse, AppError> {
    let report = audit::verify_organization(&services.pool, &org).await?;
    Ok(HttpResponse::Ok().json(report))
}
