use actix_web::{HttpResponse, delete, web};

use crate::context::Services;
use crate::domain::actor::Origin;
use crate::domain::ids::UserId;
use crate::error::AppError;
use crate::error::responses::{Common, LastLegalRepresentative, OrgGrant, Unauthenticated};
use crate::http::org::{InOrg, Requirement, UsersWrite};
use crate::services::members;

/// Remove a member from the organisation; their account stays
///
/// The same rules as for editing apply (holders of `users` remove plain members; admins also
/// admins; only legal representatives remove legal representatives), and the last legal
/// representative stays. The member's pending invitations are withdrawn. Tokens need `orgs:write`.
#[utoipa::path(
    operation_id = "remove_member",
    tag = "members",
    security(("bearer_jwt" = []), ("personal_token" = [])),
    params(
        ("org_id" = String, Path, description = "The organisation's id (`org_…`)", example = "org_01936d7a6b2f7c3e9d4a5b6c7d8e9f00"),
        ("user_id" = String, Path, description = "The member's user id (`usr_…`)", example = "usr_01936d7a6b2f7c3e9d4a5b6c7d8e9f01"),
    ),
    extensions(("x-leman-permission" = json!(UsersWrite::NEED)), ("x-leman-scope" = json!(UsersWrite::SCOPE))),
    responses(
        (status = 204, description = "The member is removed"),
        Unauthenticated,
        OrgGrant,
        LastLegalRepresentative,
        Common,
    )
)]
#[delete("/orgs/{org_id}/members/{user_id}")]
pub async fn remove_member(
    org: InOrg<UsersWrite>,
    services: web::Data<Services>,
    meta: Origin,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let user_id = UserId::parse(&path.1)?;
    members::remove(&services.pool, meta, &org, user_id).await?;
    Ok(HttpResponse::NoContent().finish())
}
