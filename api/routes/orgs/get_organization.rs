use actix_web::{HttpResponse, get, web};

use crate::auth::Caller;
use crate::context::Services;
use crate::domain::orgs::Need;
use crate::domain::scopes::Scope;
use crate::error::AppError;
use crate::error::responses::{Common, OrgAccess, Unauthenticated};
use crate::services::orgs;
use crate::views::orgs::OrganizationView;

/// One organisation the caller belongs to, with their role and permissions in it. Any member.
/// Tokens need `orgs:read`.
#[utoipa::path(
    operation_id = "get_organization",
    tag = "organizations",
    security(("bearer_jwt" = []), ("personal_token" = ["orgs:read"])),
    params(("org_id" = String, Path, description = "The organisation's id (`org_…`)", example = "org_01936d7a6b2f7c3e9d4a5b6c7d8e9f00")),
    extensions(("x-leman-permission" = json!("member"))),
    responses(
        (status = 200, description = "The organisation", body = OrganizationView),
        Unauthenticated,
        OrgAccess,
        Common,
    )
)]
#[get("/orgs/{org_id}")]
pub async fn get_organization(
    caller: Caller,
    services: web::Data<Services>,
    org_id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let access = orgs::access(
        &services.pool,
        &caller,
        &org_id,
        Scope::OrgsRead,
        Need::Member,
    )
    .await?;
    Ok(HttpResponse::Ok().json(OrganizationView::new(&access.org, &access.membership)))
}
