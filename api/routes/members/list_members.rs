use actix_web::{HttpResponse, get, web};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::context::Services;
use crate::domain::orgs::Role;
use crate::error::AppError;
use crate::error::responses::{Common, OrgAccess, Query as QueryErrors, Unauthenticated};
use crate::http::org::{InOrg, Requirement, UsersRead};
use crate::http::{PageParams, Query};
use crate::models::memberships::MemberFilter;
use crate::services::members;
use crate::views::orgs::{MemberList, MemberView};

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MemberQuery {
    /// `false`: only the members without two-factor authentication (R18).
    #[serde(default, deserialize_with = "crate::http::query::parsed")]
    pub two_factor_enabled: Option<bool>,
    /// Only these roles (repeat the key for several).
    #[serde(default)]
    #[param(style = Form, explode, example = json!(["admin"]))]
    pub role: Vec<Role>,
}

/// List the organisation's members
///
/// The organisation's members with their role, permissions, whether they use two-factor
/// authentication, whether their account is locked, and their last login; oldest first.
/// Holders of `users`. Tokens need `orgs:read`.
#[utoipa::path(
    operation_id = "list_members",
    tag = "members",
    security(("bearer_jwt" = []), ("personal_token" = [])),
    params(("org_id" = String, Path, description = "The organisation's id (`org_…`)", example = "org_01936d7a6b2f7c3e9d4a5b6c7d8e9f00"), PageParams, MemberQuery),
    extensions(("x-leman-permission" = json!(UsersRead::NEED)), ("x-leman-scope" = json!(UsersRead::SCOPE))),
    responses(
        (status = 200, description = "A page of members", body = MemberList),
        Unauthenticated,
        OrgAccess,
        QueryErrors,
        Common,
    )
)]
#[get("/orgs/{org_id}/members")]
pub async fn list_members(
    org: InOrg<UsersRead>,
    services: web::Data<Services>,
    page: Query<PageParams>,
    query: Query<MemberQuery>,
) -> Result<HttpResponse, AppError> {
    let q = query.0;
    let filter = MemberFilter {
        two_factor_enabled: q.two_factor_enabled,
        roles: q.role,
    };
    let (rows, next_cursor) = members::list(&services.pool, &org, page.0, filter).await?;
    Ok(HttpResponse::Ok().json(MemberList {
        data: rows.iter().map(MemberView::from).collect(),
        next_cursor,
    }))
}
