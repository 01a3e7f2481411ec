use actix_web::{HttpResponse, post, web};

use crate::context::Services;
use crate::domain::actor::Origin;
use crate::error::AppError;
use crate::error::responses::{Common, OrgAccess, Unauthenticated};
use crate::http::org::{AccountingWrites, InOrg, Requirement};
use crate::services::payment_methods;

/// Make a saved method, or the prepaid account (`prepaid`), the default (R29)
///
/// Holders of `accounting`. Tokens need `billing:write`.
#[utoipa::path(
    operation_id = "set_default_payment_method",
    tag = "billing",
    security(("bearer_jwt" = []), ("personal_token" = [])),
    params(("org_id" = String, Path, description = "The organisation's id (`org_…`)", example = "org_01936d7a6b2f7c3e9d4a5b6c7d8e9f00"), ("payment_method_id" = String, Path, description = "A saved method's id (`pm_…`), or `prepaid`", example = "pm_01936d7a6b2f7c3e9d4a5b6c7d8e9f05")),
    extensions(("x-leman-permission" = json!(AccountingWrites::NEED)), ("x-leman-scope" = json!(AccountingWrites::SCOPE))),
    responses(
        (status = 204, description = "It is the default"),
        Unauthenticated,
        OrgAccess,
        Common,
    )
)]
#[post("/orgs/{org_id}/payment-methods/{payment_method_id}/default")]
pub async fn set_default_payment_method(
    org: InOrg<AccountingWrites>,
    services: web::Data<Services>,
    meta: Origin,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    payment_methods::make_default(&services.pool, meta, &org, &path.1).await?;
    Ok(HttpResponse::NoContent().finish())
}
