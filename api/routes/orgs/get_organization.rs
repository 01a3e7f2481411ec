use actix_web::{HttpResponse, get, web};

use crate::context::Services;
use crate::error::AppError;
use crate::error::responses::{Common, OrgAccess, Unauthenticated};
use crate::http::org::{InOrg, MemberReads, Requirement};
use crate::views::orgs::OrganizationView;

/// One organisation the caller belongs to, with their role and permissions in it
///
/// Any member. Tokens need `orgs:read`.
#[utoipa::path(
    operation_id = "get_organization",
    tag = "organizations",
    security(("bearer_jwt" = []), ("personal_token" = [])),
    params(("org_id" = String, Path, description = "The organisation's id (`org_…`)", example = "org_01936d7a6b2f7c3e9d4a5b6c7d8e9f00")),
    extensions(("x-leman-permission" = json!(MemberReads::NEED)), ("x-leman-scope" = json!(MemberReads::SCOPE))),
    responses(
        (status = 200, description = "The organisation", body = OrganizationView),
        Unauthenticated,
        OrgAccess,
        Common,
    )
)]
#[get("/orgs/{org_id}")]
pub async fn get_organization(
    org: InOrg<MemberReads>,
    services: web::Data<Services>,
) -> Result<HttpResponse, AppError> {
    let access = org.access(&services.pool).await?;
    Ok(HttpResponse::Ok().json(OrganizationView::new(&access.org, &access.membership)))
}
