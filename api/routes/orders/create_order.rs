use std::collections::BTreeMap;

use actix_web::{HttpResponse, post, web};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::context::Services;
use crate::domain::actor::Origin;
use crate::domain::scopes::Scope;
use crate::error::AppError;
use crate::error::responses::{Common, JsonBody, OrgAccess, Unauthenticated};
use crate::http::Json;
use crate::http::org::{InOrg, ProductsAndAccountingWrite, Requirement};
use crate::services::orders::{self, ItemInput};
use crate::services::payments::PaymentInput;
use crate::views::orders::OrderView;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderItem {
    /// An offer of `GET /v1/catalog/offers`.
    #[schema(example = "ksuite-pro", max_length = 100)]
    pub offer_id: String,
    /// One of the offer's periods: `P1M`, `P3M`, `P1Y` … `P10Y`.
    #[schema(example = "P1Y", max_length = 10)]
    pub billing_period: String,
    /// Quantities of the offer's options, from what the offer includes to its maximum
    /// (omitted: what the offer includes); the quantity beyond the included is billed.
    #[serde(default)]
    #[schema(example = json!({"users": 25}))]
    pub options: BTreeMap<String, i64>,
    /// The name to register (`example.ch`, or in Unicode `müller.ch`): required for offers of
    /// kind `domain`, under the offer's extension and available (`GET /v1/domains/availability`);
    /// refused for other offers.
    #[schema(example = "example.ch", max_length = 253)]
    pub domain_name: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"items": [{"offer_id": "domain-ch", "billing_period": "P2Y", "domain_name": "example.ch"}, {"offer_id": "ksuite-pro", "billing_period": "P1Y", "options": {"users": 25}}], "payment": {"method": "prepaid"}}))]
pub struct CreateOrder {
    /// 1 to 20 items.
    #[schema(min_items = 1, max_items = 20)]
    pub items: Vec<OrderItem>,
    /// Pay at once; omitted, the order stays open (its invoice can be paid later).
    pub payment: Option<PaymentInput>,
}

/// Order products
///
/// Order products: the order, its products (`pending_payment`) and its invoice (numbered now,
/// VAT by the organisation's country) are created together, and paid at once when `payment` is
/// given (the answer's `payment` shows how that went; a declined payment leaves the order open,
/// while a prepaid balance that does not cover it refuses the whole order with 402).
/// Paying provisions the products (a domain is `provisioning` until the registry confirmed it).
/// A `domain-*` item names its domain (`domain_name`), checked again here: `422`
/// `validation_failed` with, at `/items/N/domain_name`, `required`, `not_a_domain_offer`,
/// `invalid_domain_name`, `domain_offer_mismatch`, `duplicate_domain_name` or
/// `domain_not_available` (registered at the registry, or ordered here already). An order left
/// unpaid is cancelled after the configured days, its invoice with it (keeping its number),
/// and its domain names are free again. Holders of both `products` and `accounting`.
/// Send an `Idempotency-Key`: a retry then never orders twice. Tokens need `products:write`
/// and `billing:write`.
#[utoipa::path(
    operation_id = "create_order",
    tag = "billing",
    security(("bearer_jwt" = []), ("personal_token" = ["products:write", "billing:write"])),
    params(("org_id" = String, Path, description = "The organisation's id (`org_…`)", example = "org_01936d7a6b2f7c3e9d4a5b6c7d8e9f00")),
    extensions(("x-leman-permission" = json!(ProductsAndAccountingWrite::NEED))),
    request_body = CreateOrder,
    responses(
        (status = 201, description = "The order, with its products and any payment attempt", body = OrderView),
        Unauthenticated,
        OrgAccess,
        (status = 402, description = "Paying from the prepaid account, whose balance does not cover the order (`insufficient_prepaid_balance`): nothing was created", body = crate::error::Problem, content_type = "application/problem+json",
         example = json!({"type": "urn:leman:problem:insufficient_prepaid_balance", "title": "Payment Required", "status": 402, "detail": "The prepaid account's balance does not cover this amount: top it up, or pay another way.", "code": "insufficient_prepaid_balance"})),
        JsonBody,
        (status = 503, description = "The domain registry did not answer while checking an ordered name (`registry_unavailable`), or concurrent changes to the same organisation got in the way even after retrying (`database_busy`): nothing was created; retry after `Retry-After` seconds", body = crate::error::Problem, content_type = "application/problem+json",
         headers(("Retry-After" = u64, description = "Seconds to wait")),
         example = json!({"type": "urn:leman:problem:registry_unavailable", "title": "Service Unavailable", "status": 503, "detail": "The domain registry did not answer; nothing was changed. Try again shortly.", "code": "registry_unavailable"})),
        Common,
    )
)]
#[post("/orgs/{org_id}/orders")]
pub async fn create_order(
    org: InOrg<ProductsAndAccountingWrite>,
    services: web::Data<Services>,
    meta: Origin,
    body: Json<CreateOrder>,
) -> Result<HttpResponse, AppError> {
    // The requirement names one token scope; ordering creates products too, so a token also
    // needs `products:write` (both are listed in the spec's security above).
    org.caller.require_scope(Scope::ProductsWrite)?;
    let b = body.0;
    let items = b
        .items
        .into_iter()
        .map(|i| ItemInput {
            offer_id: i.offer_id,
            billing_period: i.billing_period,
            options: i.options,
            domain_name: i.domain_name,
        })
        .collect();
    let (order, products, payment) =
        orders::create_and_pay(&services, meta, &org, items, b.payment).await?;
    Ok(HttpResponse::Created().json(OrderView::new(&order, &products, payment.as_ref())))
}
