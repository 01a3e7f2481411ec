use actix_web::{HttpResponse, put, web};
use serde::{Deserialize, Deserializer};
use utoipa::ToSchema;

use crate::context::Services;
use crate::domain::Language;
use crate::domain::actor::Origin;
use crate::error::AppError;
use crate::error::responses::{Busy, Common, JsonBody, OrgAccess, Unauthenticated};
use crate::http::Json;
use crate::http::org::{BillingAdminWrites, InOrg, Requirement};
use crate::services::billing_settings::{self, SettingsInput};
use crate::views::billing_settings::BillingSettingsView;

/// A field that must be given, possibly as `null` (serde would take a missing `Option` as
/// `null`: here leaving the address out is an error, not a way to remove it).
fn required_nullable<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Option::<String>::deserialize(d)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"attach_invoice_pdf": true, "invoice_language": "fr", "invoice_email": "compta@example.ch"}))]
pub struct UpdateBillingSettings {
    /// Receipts and renewal mails carry the paid invoice as a PDF (R27).
    pub attach_invoice_pdf: bool,
    /// The language of the billing documents and of the copies mailed to `invoice_email`.
    pub invoice_language: Language,
    /// An extra address that receives every paid invoice, its PDF attached; `null`: none.
    #[serde(deserialize_with = "required_nullable")]
    #[schema(required = true, format = "email", max_length = 254)]
    pub invoice_email: Option<String>,
}

/// Replace the organisation's billing settings
///
/// Replace the organisation's billing settings, all three at once; they apply from the next
/// mail (R27: saved at once). Admins and legal representatives. Tokens need `billing:write`.
#[utoipa::path(
    operation_id = "update_billing_settings",
    tag = "billing",
    security(("bearer_jwt" = []), ("personal_token" = [])),
    params(("org_id" = String, Path, description = "The organisation's id (`org_…`)", example = "org_01936d7a6b2f7c3e9d4a5b6c7d8e9f00")),
    extensions(("x-leman-permission" = json!(BillingAdminWrites::NEED)), ("x-leman-scope" = json!(BillingAdminWrites::SCOPE))),
    request_body = UpdateBillingSettings,
    responses(
        (status = 200, description = "The settings as saved", body = BillingSettingsView),
        Unauthenticated,
        OrgAccess,
        JsonBody,
        Busy,
        Common,
    )
)]
#[put("/orgs/{org_id}/billing-settings")]
pub async fn update_billing_settings(
    org: InOrg<BillingAdminWrites>,
    services: web::Data<Services>,
    meta: Origin,
    body: Json<UpdateBillingSettings>,
) -> Result<HttpResponse, AppError> {
    let b = body.0;
    let input = SettingsInput {
        attach_invoice_pdf: b.attach_invoice_pdf,
        invoice_language: b.invoice_language,
        invoice_email: b.invoice_email,
    };
    let saved = billing_settings::update(&services.pool, meta, &org, input).await?;
    Ok(HttpResponse::Ok().json(BillingSettingsView::from(&saved)))
}
