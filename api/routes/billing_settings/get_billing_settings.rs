use actix_web::{HttpResponse, get, web};

use crate::context::Services;
use crate::error::AppError;
use crate::error::responses::{Common, OrgAccess, Unauthenticated};
use crate::http::org::{BillingAdminReads, InOrg, Requirement};
use crate::services::billing_settings;
use crate::views::billing_settings::BillingSettingsView;

/// Get the organisation's billing settings
///
/// The organisation's billing settings: whether receipts and renewal mails carry the invoice PDF
/// (R27), the language of its billing documents, and an extra address that receives every paid
/// invoice. Never saved: the defaults (no PDF, the language of the organisation's country, no
/// address). Admins and legal representatives. Tokens need `billing:read`.
#[utoipa::path(
    operation_id = "get_billing_settings",
    tag = "billing",
    security(("bearer_jwt" = []), ("personal_token" = [])),
    params(("org_id" = String, Path, description = "The organisation's id (`org_…`)", example = "org_01936d7a6b2f7c3e9d4a5b6c7d8e9f00")),
    extensions(("x-leman-permission" = json!(BillingAdminReads::NEED)), ("x-leman-scope" = json!(BillingAdminReads::SCOPE))),
    responses(
        (status = 200, description = "The settings in force", body = BillingSettingsView),
        Unauthenticated,
        OrgAccess,
        Common,
    )
)]
#[get("/orgs/{org_id}/billing-settings")]
pub async fn get_billing_settings(
    org: InOrg<BillingAdminReads>,
    services: web::Data<Services>,
) -> Result<HttpResponse, AppError> {
    let settings = billing_settings::get(&services.pool, &org).await?;
    Ok(HttpResponse::Ok().json(BillingSettingsView::from(&settings)))
}
