use actix_web::{HttpResponse, get};

use crate::domain::events::ActivityKind;
use crate::error::AppError;
use crate::error::responses::Common;
use crate::views::activities::{ActivityKindList, ActivityKindView};

/// List every kind of activity Leman records
///
/// Every kind of activity Leman records (the `action` of an activity record and of the
/// `?action=` filter), with a one-line description and whether it concerns an organisation.
/// Public: no authentication.
#[utoipa::path(
    operation_id = "list_activity_kinds",
    tag = "activities",
    responses(
        (status = 200, description = "Every kind of activity", body = ActivityKindList),
        Common,
    )
)]
#[get("/activity-kinds")]
pub async fn list_activity_kinds() -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "public, max-age=300"))
        .json(ActivityKindList {
            data: ActivityKind::ALL
                .iter()
                .copied()
                .map(ActivityKindView::from)
                .collect(),
        }))
}
