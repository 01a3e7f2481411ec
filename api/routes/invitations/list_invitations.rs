use actix_web::{HttpResponse, get, web};

use crate::context::Services;
use crate::error::AppError;
use crate::error::responses::{Common, OrgAccess, Query as QueryErrors, Unauthenticated};
use crate::http::org::{InOrg, Requirement, UsersRead};
use crate::http::{PageParams, Query};
use crate::services::invitations;
use crate::views::orgs::{InvitationList, InvitationView};

/// List the organisation's pending invitations
///
/// The organisation's pending invitations (not accepted, withdrawn or expired), newest first.
/// Holders of `users`. Tokens need `orgs:read`.
#[utoipa::path(
    operation_id = "list_invitations",
    tag = "members",
    security(("bearer_jwt" = []), ("personal_token" = [])),
    params(("org_id" = String, Path, description = "The organisation's id (`org_…`)", example = "org_01936d7a6b2f7c3e9d4a5b6c7d8e9f00"), PageParams),
    extensions(("x-leman-permission" = json!(UsersRead::NEED)), ("x-leman-scope" = json!(UsersRead::SCOPE))),
    responses(
        (status = 200, description = "A page of invitations", body = InvitationList),
        Unauthenticated,
        OrgAccess,
        QueryErrors,
        Common,
    )
)]
#[get("/orgs/{org_id}/invitations")]
pub async fn list_invitations(
    org: InOrg<UsersRead>,
    services: web::Data<Services>,
    page: Query<PageParams>,
) -> Result<HttpResponse, AppError> {
    let (rows, next_cursor) = invitations::list(&services.pool, &org, page.0).await?;
    Ok(HttpResponse::Ok().json(InvitationList {
        data: rows.iter().map(InvitationView::from).collect(),
        next_cursor,
    }))
}
