use actix_web::{HttpResponse, delete, web};

use crate::context::Services;
use crate::domain::actor::Origin;
use crate::domain::ids::InvitationId;
use crate::error::AppError;
use crate::error::responses::{Common, OrgGrant, Unauthenticated};
use crate::http::org::{InOrg, Requirement, UsersWrite};
use crate::services::invitations;

/// Withdraw a pending invitation: its link stops working
///
/// Holders of `users`, for invitations they could have made. Tokens need `orgs:write`.
#[utoipa::path(
    operation_id = "revoke_invitation",
    tag = "members",
    security(("bearer_jwt" = []), ("personal_token" = [])),
    params(
        ("org_id" = String, Path, description = "The organisation's id (`org_…`)", example = "org_01936d7a6b2f7c3e9d4a5b6c7d8e9f00"),
        ("invitation_id" = String, Path, description = "The invitation's id (`ivt_…`)", example = "ivt_01936d7a6b2f7c3e9d4a5b6c7d8e9f02"),
    ),
    extensions(("x-leman-permission" = json!(UsersWrite::NEED)), ("x-leman-scope" = json!(UsersWrite::SCOPE))),
    responses(
        (status = 204, description = "The invitation is withdrawn"),
        Unauthenticated,
        OrgGrant,
        Common,
    )
)]
#[delete("/orgs/{org_id}/invitations/{invitation_id}")]
pub async fn revoke_invitation(
    org: InOrg<UsersWrite>,
    services: web::Data<Services>,
    meta: Origin,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let invitation_id = InvitationId::parse(&path.1)?;
    invitations::revoke(&services.pool, meta, &org, invitation_id).await?;
    Ok(HttpResponse::NoContent().finish())
}
