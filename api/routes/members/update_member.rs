use actix_web::{HttpResponse, patch, web};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::context::Services;
use crate::domain::actor::Origin;
use crate::domain::ids::UserId;
use crate::domain::orgs::{Permission, Role};
use crate::error::AppError;
use crate::error::responses::{
    Common, JsonBody, LastLegalRepresentative, OrgGrant, Unauthenticated,
};
use crate::http::Json;
use crate::http::org::{InOrg, Requirement, UsersWrite};
use crate::services::members::{self, MemberEdit};
use crate::views::orgs::MemberView;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"role": "member", "permissions": ["accounting", "products"]}))]
pub struct UpdateMember {
    pub role: Option<Role>,
    /// The member's permissions (replacing the current ones); admins and legal representatives
    /// hold all, whatever this says.
    pub permissions: Option<Vec<Permission>>,
}

/// Change a member's role or permissions; only the fields sent change
///
/// Holders of `users` edit plain members and grant only permissions they hold; admins and legal
/// representatives may also grant `admin`; only legal representatives grant or revoke
/// `legal_representative`. The last legal representative cannot be demoted. The member's pending
/// invitations that their new grant could not make are withdrawn. Tokens need `orgs:write`.
#[utoipa::path(
    operation_id = "update_member",
    tag = "members",
    security(("bearer_jwt" = []), ("personal_token" = [])),
    params(
        ("org_id" = String, Path, description = "The organisation's id (`org_…`)", example = "org_01936d7a6b2f7c3e9d4a5b6c7d8e9f00"),
        ("user_id" = String, Path, description = "The member's user id (`usr_…`)", example = "usr_01936d7a6b2f7c3e9d4a5b6c7d8e9f01"),
    ),
    extensions(("x-leman-permission" = json!(UsersWrite::NEED)), ("x-leman-scope" = json!(UsersWrite::SCOPE))),
    request_body = UpdateMember,
    responses(
        (status = 200, description = "The member", body = MemberView),
        Unauthenticated,
        OrgGrant,
        LastLegalRepresentative,
        JsonBody,
        Common,
    )
)]
#[patch("/orgs/{org_id}/members/{user_id}")]
pub async fn update_member(
    org: InOrg<UsersWrite>,
    services: web::Data<Services>,
    meta: Origin,
    path: web::Path<(String, String)>,
    body: Json<UpdateMember>,
) -> Result<HttpResponse, AppError> {
    let user_id = UserId::parse(&path.1)?;
    let edit = MemberEdit {
        role: body.0.role,
        permissions: body.0.permissions,
    };
    let row = members::update(&services.pool, meta, &org, user_id, edit).await?;
    Ok(HttpResponse::Ok().json(MemberView::from(&row)))
}
