use actix_web::{HttpResponse, get, web};

use crate::context::Services;
use crate::error::AppError;
use crate::error::responses::{Common, OrgAccess, Query as QueryErrors, Unauthenticated};
use crate::http::org::{AdminReads, InOrg, Requirement};
use crate::http::{PageParams, Query};
use crate::routes::activities::list_my_activities::ActivityQuery;
use crate::services::activity_log;
use crate::views::activities::{ActivityList, ActivityView};

/// List the organisation's activities, newest first
///
/// What anyone did in the organisation, newest first, with filters by day, action type,
/// product and actor, and a text search. Admins and legal representatives. Tokens need
/// `orgs:read`.
#[utoipa::path(
    operation_id = "list_organization_activities",
    tag = "activities",
    security(("bearer_jwt" = []), ("personal_token" = [])),
    params(("org_id" = String, Path, description = "The organisation's id (`org_…`)", example = "org_01936d7a6b2f7c3e9d4a5b6c7d8e9f00"), PageParams, ActivityQuery),
    extensions(("x-leman-permission" = json!(AdminReads::NEED)), ("x-leman-scope" = json!(AdminReads::SCOPE))),
    responses(
        (status = 200, description = "A page of activity records", body = ActivityList),
        Unauthenticated,
        OrgAccess,
        QueryErrors,
        Common,
    )
)]
#[get("/orgs/{org_id}/activities")]
pub async fn list_organization_activities(
    org: InOrg<AdminReads>,
    services: web::Data<Services>,
    page: Query<PageParams>,
    query: Query<ActivityQuery>,
) -> Result<HttpResponse, AppError> {
    let (rows, next_cursor) =
        activity_log::list_for_organization(&services.pool, &org, page.0, query.0.into()).await?;
    Ok(HttpResponse::Ok().json(ActivityList {
        data: rows.into_iter().map(ActivityView::from).collect(),
        next_cursor,
    }))
}
