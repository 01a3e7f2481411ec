use actix_web::{HttpResponse, post, web};

use crate::context::Services;
use crate::domain::actor::Origin;
use crate::domain::ids::UserId;
use crate::error::AppError;
use crate::error::responses::{Common, OrgAccess, Unauthenticated};
use crate::http::org::{AdminWrites, InOrg, Requirement};
use crate::services::members;

/// Unlock the account of a member locked after too many failed sign-ins (R12)
///
/// The member is told by mail; the activity record shows it in the organisation's log and in the
/// member's. Admins and legal representatives. Tokens need `orgs:write`.
#[utoipa::path(
    operation_id = "unlock_member",
    tag = "members",
    security(("bearer_jwt" = []), ("personal_token" = [])),
    params(
        ("org_id" = String, Path, description = "The organisation's id (`org_…`)", example = "org_01936d7a6b2f7c3e9d4a5b6c7d8e9f00"),
        ("user_id" = String, Path, description = "The member's user id (`usr_…`)", example = "usr_01936d7a6b2f7c3e9d4a5b6c7d8e9f01"),
    ),
    extensions(("x-leman-permission" = json!(AdminWrites::NEED)), ("x-leman-scope" = json!(AdminWrites::SCOPE))),
    responses(
        (status = 204, description = "The account is unlocked"),
        Unauthenticated,
        OrgAccess,
        (status = 409, description = "The member's account is not locked (`account_not_locked`)", body = crate::error::Problem, content_type = "application/problem+json",
         example = json!({"type": "urn:leman:problem:account_not_locked", "title": "Conflict", "status": 409, "detail": "This member's account is not locked.", "code": "account_not_locked"})),
        Common,
    )
)]
#[post("/orgs/{org_id}/members/{user_id}/unlock")]
pub async fn unlock_member(
    org: InOrg<AdminWrites>,
    services: web::Data<Services>,
    meta: Origin,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let user_id = UserId::parse(&path.1)?;
    members::unlock(&services, meta, &org, user_id).await?;
    Ok(HttpResponse::NoContent().finish())
}
