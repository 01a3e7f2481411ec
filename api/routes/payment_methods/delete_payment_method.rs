use actix_web::{HttpResponse, delete, web};

use crate::context::Services;
use crate::domain::actor::Origin;
use crate::error::AppError;
use crate::error::responses::{Common, OrgAccess, Unauthenticated};
use crate::http::org::{AccountingWrites, InOrg, Requirement};
use crate::services::payment_methods;

/// Remove a saved method (it stops being the default)
///
/// The prepaid account cannot be removed. Holders of `accounting`. Tokens need `billing:write`.
#[utoipa::path(
    operation_id = "delete_payment_method",
    tag = "billing",
    security(("bearer_jwt" = []), ("personal_token" = [])),
    params(("org_id" = String, Path, description = "The organisation's id (`org_…`)", example = "org_01936d7a6b2f7c3e9d4a5b6c7d8e9f00"), ("payment_method_id" = String, Path, description = "A saved method's id (`pm_…`), or `prepaid`", example = "pm_01936d7a6b2f7c3e9d4a5b6c7d8e9f05")),
    extensions(("x-leman-permission" = json!(AccountingWrites::NEED)), ("x-leman-scope" = json!(AccountingWrites::SCOPE))),
    responses(
        (status = 204, description = "Removed"),
        Unauthenticated,
        OrgAccess,
        (status = 409, description = "The prepaid account is not removable (`prepaid_not_deletable`)", body = crate::error::Problem, content_type = "application/problem+json",
         example = json!({"type": "urn:leman:problem:prepaid_not_deletable", "title": "Conflict", "status": 409, "detail": "The prepaid account is always there; withdraw its balance instead.", "code": "prepaid_not_deletable"})),
        Common,
    )
)]
#[delete("/orgs/{org_id}/payment-methods/{payment_method_id}")]
pub async fn delete_payment_method(
    org: InOrg<AccountingWrites>,
    services: web::Data<Services>,
    meta: Origin,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    payment_methods::delete(&services, meta, &org, &path.1).await?;
    Ok(HttpResponse::NoContent().finish())
}
