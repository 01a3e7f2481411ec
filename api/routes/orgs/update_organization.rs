use actix_web::{HttpResponse, patch, web};
use serde::{Deserialize, Deserializer};
use utoipa::ToSchema;

use crate::context::Services;
use crate::domain::actor::Origin;
use crate::domain::orgs::{BillingAddress, Currency};
use crate::error::AppError;
use crate::error::responses::{Busy, Common, JsonBody, OrgAccess, Unauthenticated};
use crate::http::Json;
use crate::http::org::{AdminWrites, InOrg, Requirement};
use crate::services::orgs::{self, OrganizationEdit};
use crate::views::orgs::OrganizationView;

/// Tells an absent field (`None`) from an explicit `null` (`Some(None)`).
fn nullable<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Müller Design SA", "vat_number": null}))]
pub struct UpdateOrganization {
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub name: Option<String>,
    /// ISO 3166-1 alpha-2 country code.
    #[schema(example = "CH", pattern = "^[A-Za-z]{2}$")]
    pub country: Option<String>,
    pub currency: Option<Currency>,
    /// Replaces the whole address.
    pub billing_address: Option<BillingAddress>,
    /// `null` removes it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, max_length = 30)]
    pub vat_number: Option<Option<String>>,
}

/// Change the organisation's details
///
/// Change the organisation's name, country, currency, billing address or VAT number; only the
/// fields sent change; the currency only until the organisation has a product or an invoice.
/// Admins and legal representatives. Tokens need `orgs:write`.
#[utoipa::path(
    operation_id = "update_organization",
    tag = "organizations",
    security(("bearer_jwt" = []), ("personal_token" = [])),
    params(("org_id" = String, Path, description = "The organisation's id (`org_…`)", example = "org_01936d7a6b2f7c3e9d4a5b6c7d8e9f00")),
    extensions(("x-leman-permission" = json!(AdminWrites::NEED)), ("x-leman-scope" = json!(AdminWrites::SCOPE))),
    request_body = UpdateOrganization,
    responses(
        (status = 200, description = "The updated organisation", body = OrganizationView),
        Unauthenticated,
        OrgAccess,
        (status = 409, description = "The organisation has products, invoices, pro formas, payments or prepaid money: its currency can no longer change (`currency_locked`)", body = crate::error::Problem, content_type = "application/problem+json",
         example = json!({"type": "urn:leman:problem:currency_locked", "title": "Conflict", "status": 409, "detail": "The organisation has products or invoices: its currency can no longer change.", "code": "currency_locked"})),
        JsonBody,
        Busy,
        Common,
    )
)]
#[patch("/orgs/{org_id}")]
pub async fn update_organization(
    org: InOrg<AdminWrites>,
    services: web::Data<Services>,
    meta: Origin,
    body: Json<UpdateOrganization>,
) -> Result<HttpResponse, AppError> {
    let b = body.0;
    let edit = OrganizationEdit {
        name: b.name,
        country: b.country,
        currency: b.currency,
        billing_address: b.billing_address,
        vat_number: b.vat_number,
    };
    let (updated, membership) = orgs::update(&services.pool, meta, &org, edit).await?;
    Ok(HttpResponse::Ok().json(OrganizationView::new(&updated, &membership)))
}
