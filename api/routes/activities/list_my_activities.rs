use actix_web::{HttpResponse, get, web};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::auth::Caller;
use crate::context::Services;
use crate::domain::events::ActivityKind;
use crate::domain::scopes::Scope;
use crate::error::AppError;
use crate::error::responses::{Common, InsufficientScope, Query as QueryErrors, Unauthenticated};
use crate::http::{PageParams, Query};
use crate::services::activity_log::{self, Filters};
use crate::views::activities::{ActivityList, ActivityView};

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ActivityQuery {
    /// First day to include, `YYYY-MM-DD` (UTC).
    #[param(value_type = Option<String>, format = Date, example = "2026-11-01")]
    #[serde(default, deserialize_with = "crate::http::query::present")]
    pub from: Option<String>,
    /// Last day to include, `YYYY-MM-DD` (UTC); before `from`, nothing matches.
    #[param(value_type = Option<String>, format = Date, example = "2026-11-30")]
    #[serde(default, deserialize_with = "crate::http::query::present")]
    pub to: Option<String>,
    /// Only these kinds of activity (`GET /v1/activity-kinds`), up to 20 (repeat the key for
    /// several: `?action=login.failed&action=account.locked`); an unknown kind is a 422.
    #[serde(default)]
    #[param(style = Form, explode, max_items = 20, example = json!(["login.failed"]))]
    pub action: Vec<ActivityKind>,
    /// Only records about these products, up to 20 (repeat the key for several).
    #[serde(default)]
    #[param(style = Form, explode, max_items = 20, example = json!(["prd_01936d7a6b2f7c3e9d4a5b6c7d8e9f00"]))]
    pub product_id: Vec<String>,
    /// Only records done by these users, up to 20 (repeat the key for several).
    #[serde(default)]
    #[param(style = Form, explode, max_items = 20, example = json!(["usr_01936d7a6b2f7c3e9d4a5b6c7d8e9f01"]))]
    pub actor_id: Vec<String>,
    /// Text to find in the action type or the details (case-insensitive), up to 100 characters.
    #[param(max_length = 100, example = "token")]
    pub q: Option<String>,
}

impl From<ActivityQuery> for Filters {
    fn from(q: ActivityQuery) -> Self {
        Filters {
            from: q.from,
            to: q.to,
            actions: q.action,
            products: q.product_id,
            actors: q.actor_id,
            q: q.q,
        }
    }
}

/// List the caller's activities, newest first
///
/// What the caller did or was subject to, newest first, with filters by day, action type,
/// product and actor, and a text search. Tokens need `account:read`.
#[utoipa::path(
    operation_id = "list_my_activities",
    tag = "activities",
    security(("bearer_jwt" = []), ("personal_token" = ["account:read"])),
    params(PageParams, ActivityQuery),
    responses(
        (status = 200, description = "A page of activity records", body = ActivityList),
        Unauthenticated,
        InsufficientScope,
        QueryErrors,
        Common,
    )
)]
#[get("/me/activities")]
pub async fn list_my_activities(
    caller: Caller,
    services: web::Data<Services>,
    page: Query<PageParams>,
    query: Query<ActivityQuery>,
) -> Result<HttpResponse, AppError> {
    caller.require_scope(Scope::AccountRead)?;
    let (rows, next_cursor) =
        activity_log::list(&services.pool, caller.user_id, page.0, query.0.into()).await?;
    Ok(HttpResponse::Ok().json(ActivityList {
        data: rows.into_iter().map(ActivityView::from).collect(),
        next_cursor,
    }))
}
