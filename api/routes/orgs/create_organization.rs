use actix_web::{HttpResponse, post, web};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::context::Services;
use crate::domain::actor::Origin;
use crate::domain::orgs::{BillingAddress, Currency};
use crate::error::AppError;
use crate::error::responses::{Common, InsufficientScope, JsonBody, Unauthenticated};
use crate::http::Json;
use crate::services::orgs::{self, NewOrganization};
use crate::views::orgs::OrganizationView;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Müller Design Sàrl", "country": "CH", "currency": "CHF", "billing_address": {"line1": "Rue du Rhône 12", "postal_code": "1204", "city": "Genève"}, "vat_number": "CHE-123.456.789"}))]
pub struct CreateOrganization {
    /// 1 to 100 characters.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub name: String,
    /// ISO 3166-1 alpha-2 country code.
    #[schema(example = "CH", pattern = "^[A-Za-z]{2}$")]
    pub country: String,
    pub currency: Currency,
    pub billing_address: BillingAddress,
    /// With its country prefix (`CHE-123.456.789`, `DE123456789`).
    #[schema(max_length = 30)]
    pub vat_number: Option<String>,
}

/// Create an organisation: a space for products, invoices and members
///
/// The caller becomes its legal representative. Tokens need `orgs:write`.
#[utoipa::path(
    operation_id = "create_organization",
    tag = "organizations",
    security(("bearer_jwt" = []), ("personal_token" = ["orgs:write"])),
    request_body = CreateOrganization,
    responses(
        (status = 201, description = "The organisation", body = OrganizationView),
        Unauthenticated,
        InsufficientScope,
        JsonBody,
        Common,
    )
)]
#[post("/orgs")]
pub async fn create_organization(
    caller: Caller,
    services: web::Data<Services>,
    meta: Origin,
    body: Json<CreateOrganization>,
) -> Result<HttpResponse, AppError> {
    let b = body.0;
    let input = NewOrganization {
        name: b.name,
        country: b.country,
        currency: b.currency,
        billing_address: b.billing_address,
        vat_number: b.vat_number,
    };
    let (org, membership) = orgs::create(&services.pool, meta, caller, input).await?;
    Ok(HttpResponse::Created().json(OrganizationView::new(&org, &membership)))
}
