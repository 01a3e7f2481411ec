use actix_web::{HttpResponse, get, web};

use crate::auth::Caller;
use crate::context::Services;
use crate::domain::orgs::Need;
use crate::domain::scopes::Scope;
use crate::error::AppError;
use crate::error::responses::{Common, OrgAccess, Unauthenticated};
use crate::services::orgs;
use crate::views::orgs::SecurityPolicyView;

/// The organisation's security policy: whether its members must use two-factor authentication.
/// Admins and legal representatives. Tokens need `orgs:read`.
#[utoipa::path(
    operation_id = "get_security_policy",
    tag = "organizations",
    security(("bearer_jwt" = []), ("personal_token" = ["orgs:read"])),
    params(("org_id" = String, Path, description = "The organisation's id (`org_…`)", example = "org_01936d7a6b2f7c3e9d4a5b6c7d8e9f00")),
    extensions(("x-leman-permission" = json!("admin"))),
    responses(
        (status = 200, description = "The policy", body = SecurityPolicyView),
        Unauthenticated,
        OrgAccess,
        Common,
    )
)]
#[get("/orgs/{org_id}/security-policy")]
pub async fn get_security_policy(
    caller: Caller,
    services: web::Data<Services>,
    org_id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let access = orgs::access(
        &services.pool,
        &caller,
        &org_id,
        Scope::OrgsRead,
        Need::Admin,
    )
    .await?;
    Ok(HttpResponse::Ok().json(SecurityPolicyView {
        require_two_factor: access.org.require_two_factor,
    }))
}
