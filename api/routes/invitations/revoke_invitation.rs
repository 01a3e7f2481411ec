use actix_web::{HttpResponse, delete, web};

use crate::auth::Caller;
use crate::context::Services;
use crate::domain::actor::Origin;
use crate::error::AppError;
use crate::error::responses::{Common, OrgGrant, Unauthenticated};
use crate::services::invitations;

/// Withdraw a pending invitation: its link stops working. Holders of `users`, for invitations
/// they could have made. Tokens need `orgs:write`.
#[utoipa::path(
    operation_id = "revoke_invitation",
    tag = "members",
    security(("bearer_jwt" = []), ("personal_token" = ["orgs:write"])),
    params(
        ("org_id" = String, Path, description = "The organisation's id (`org_…`)", example = "org_01936d7a6b2f7c3e9d4a5b6c7d8e9f00"),
        ("invitation_id" = String, Path, description = "The invitation's id (`ivt_…`)", example = "ivt_01936d7a6b2f7c3e9d4a5b6c7d8e9f02"),
    ),
    extensions(("x-leman-permission" = json!("users"))),
    responses(
        (status = 204, description = "The invitation is withdrawn"),
        Unauthenticated,
        OrgGrant,
        Common,
    )
)]
#[delete("/orgs/{org_id}/invitations/{invitation_id}")]
pub async fn revoke_invitation(
    caller: Caller,
    services: web::Data<Services>,
    meta: Origin,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let (org_id, invitation_id) = path.into_inner();
    invitations::revoke(&services.pool, meta, caller, org_id, invitation_id).await?;
    Ok(HttpResponse::NoContent().finish())
}
