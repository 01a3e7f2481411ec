use actix_web::{HttpResponse, get, web};

use crate::auth::Caller;
use crate::context::Services;
use crate::error::AppError;
use crate::error::responses::{Common, InsufficientScope, Query as QueryErrors, Unauthenticated};
use crate::http::{PageParams, Query};
use crate::services::orgs;
use crate::views::orgs::{OrganizationList, OrganizationView};

/// List the organisations the caller belongs to
///
/// The organisations the caller belongs to, with their role and permissions in each, oldest
/// membership first (the organisation switcher). Open to members blocked by a 2FA requirement,
/// so they can see which organisation asks it. Tokens need `orgs:read`.
#[utoipa::path(
    operation_id = "list_my_organizations",
    tag = "organizations",
    security(("bearer_jwt" = []), ("personal_token" = ["orgs:read"])),
    params(PageParams),
    responses(
        (status = 200, description = "A page of organisations", body = OrganizationList),
        Unauthenticated,
        InsufficientScope,
        QueryErrors,
        Common,
    )
)]
#[get("/me/organizations")]
pub async fn list_my_organizations(
    caller: Caller,
    services: web::Data<Services>,
    page: Query<PageParams>,
) -> Result<HttpResponse, AppError> {
    let (rows, next_cursor) = orgs::list_mine(&services.pool, &caller, page.0).await?;
    Ok(HttpResponse::Ok().json(OrganizationList {
        data: rows
            .iter()
            .map(|(m, o)| OrganizationView::new(o, m))
            .collect(),
        next_cursor,
    }))
}
