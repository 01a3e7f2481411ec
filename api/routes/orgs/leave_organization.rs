use actix_web::{HttpResponse, post, web};

use crate::context::Services;
use crate::domain::actor::Origin;
use crate::error::AppError;
use crate::error::responses::{Common, LastLegalRepresentative, OrgAccess, Unauthenticated};
use crate::http::org::{InOrg, MemberWrites, Requirement};
use crate::services::members;

/// Leave the organisation
///
/// Open to members blocked by its 2FA requirement, who may leave rather than comply (R21). The last
/// legal representative cannot leave: appoint another, or delete the organisation. The caller's
/// pending invitations are withdrawn. Tokens need `orgs:write`.
#[utoipa::path(
    operation_id = "leave_organization",
    tag = "organizations",
    security(("bearer_jwt" = []), ("personal_token" = [])),
    params(("org_id" = String, Path, description = "The organisation's id (`org_…`)", example = "org_01936d7a6b2f7c3e9d4a5b6c7d8e9f00")),
    extensions(("x-leman-permission" = json!(MemberWrites::NEED)), ("x-leman-scope" = json!(MemberWrites::SCOPE))),
    responses(
        (status = 204, description = "The caller is no longer a member"),
        Unauthenticated,
        OrgAccess,
        LastLegalRepresentative,
        Common,
    )
)]
#[post("/orgs/{org_id}/leave")]
pub async fn leave_organization(
    org: InOrg<MemberWrites>,
    services: web::Data<Services>,
    meta: Origin,
) -> Result<HttpResponse, AppError> {
    members::leave(&services.pool, meta, &org).await?;
    Ok(HttpResponse::NoContent().finish())
}
