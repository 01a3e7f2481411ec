use actix_web::{HttpResponse, get, web};

use crate::context::Services;
use crate::error::AppError;
use crate::error::responses::{Common, OrgAccess, Unauthenticated};
use crate::http::org::{AdminReads, InOrg, Requirement};
use crate::views::orgs::SecurityPolicyView;

/// Get the organisation's security policy
///
/// The organisation's security policy: whether its members must use two-factor authentication.
/// Admins and legal representatives. Tokens need `orgs:read`.
#[utoipa::path(
    operation_id = "get_security_policy",
    tag = "organizations",
    security(("bearer_jwt" = []), ("personal_token" = [])),
    params(("org_id" = String, Path, description = "The organisation's id (`org_…`)", example = "org_01936d7a6b2f7c3e9d4a5b6c7d8e9f00")),
    extensions(("x-leman-permission" = json!(AdminReads::NEED)), ("x-leman-scope" = json!(AdminReads::SCOPE))),
    responses(
        (status = 200, description = "The policy", body = SecurityPolicyView),
        Unauthenticated,
        OrgAccess,
        Common,
    )
)]
#[get("/orgs/{org_id}/security-policy")]
pub async fn get_security_policy(
    org: InOrg<AdminReads>,
    services: web::Data<Services>,
) -> Result<HttpResponse, AppError> {
    let access = org.access(&services.pool).await?;
    Ok(HttpResponse::Ok().json(SecurityPolicyView {
        require_two_factor: access.org.require_two_factor,
    }))
}
