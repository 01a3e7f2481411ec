use std::collections::BTreeMap;

use actix_web::{HttpResponse, post, web};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::context::Services;
use crate::domain::actor::Origin;
use crate::error::AppError;
use crate::error::responses::{Busy, Common, JsonBody, OrgAccess, Unauthenticated};
use crate::http::Json;
use crate::http::org::{AccountingWrites, InOrg, Requirement};
use crate::services::pro_forma::{self, ItemInput};
use crate::services::renewals;
use crate::views::renewals::ProFormaView;

/// One item: a product of the organisation, or an offer of the catalogue — exactly one of
/// `product_id` and `offer_id`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProFormaItem {
    /// A product of the organisation (`prd_…`): priced for its next renewal term, from its
    /// current expiry, at today's price with its options.
    #[schema(example = "prd_01936d7a6b2f7c3e9d4a5b6c7d8e9f10", max_length = 100)]
    pub product_id: Option<String>,
    /// An offer of `GET /v1/catalog/offers`: priced as an order would be, from today.
    #[schema(example = "ksuite-pro", max_length = 100)]
    pub offer_id: Option<String>,
    /// `P1M`, `P3M`, `P1Y` … `P10Y`: required with an offer (one of its periods); with a
    /// product, another period its renewals offer (omitted: its next billing period).
    #[schema(example = "P1Y", max_length = 10)]
    pub billing_period: Option<String>,
    /// With an offer only: quantities of its options, from what it includes to its maximum
    /// (omitted: what it includes).
    #[schema(example = json!({"users": 25}))]
    pub options: Option<BTreeMap<String, i64>>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"items": [{"offer_id": "ksuite-pro", "billing_period": "P1Y", "options": {"users": 25}}]}))]
pub struct CreateProForma {
    /// 1 to 50 items.
    #[schema(min_items = 1, max_items = 50)]
    pub items: Vec<ProFormaItem>,
}

/// Make a pro forma invoice
///
/// Make a pro forma invoice (R28) for selected products — each priced for its next renewal term
/// (from its current expiry, at today's price, with its options) — or for offers of the
/// catalogue, priced as an order would be (from today), VAT by the organisation's country as an
/// invoice would charge it. Numbered `PF-YYYY-NNNNNN` outside the invoice sequence, with a bank
/// transfer reference, valid 30 days; of no legal, tax or accounting value (`legal_value:
/// false`). Making one is free and has no other effect: **no order, no renewal, no payment and no
/// invoice number** — to buy, order (`POST …/orders`) or renew (`POST …/renewals`). Download it
/// with `GET …/pro-forma-invoices/{pro_forma_id}/pdf`.
/// **Paid by bank transfer anyway?** A transfer quoting its reference (`bank_transfer.reference`,
/// also in its QR code) is never lost: its total is credited in full to the organisation's
/// prepaid account (a `top_up` of the ledger, whatever the ceiling, even after the pro forma
/// lapsed), the pro forma becomes `credited` (its `payment` the transfer that settled it; it stays
/// a quote: nothing is ordered or invoiced — the balance pays the next order or renewal), the
/// requester gets a top-up receipt mail, and a `pro_forma.credited` activity is recorded. Each
/// provider event is applied once (a replay credits nothing more); another transfer quoting the
/// same reference is credited too, the pro forma keeping its first settlement. Once an
/// organisation has a pro forma its currency is locked (`currency_locked`).
/// Per item (422 `validation_failed`): `product_or_offer` (at `/items/{i}`: neither or both);
/// at `/items/{i}/product_id`: `unknown_product` (also another organisation's),
/// `duplicate_item`, `product_not_renewable`, `bundled_product`, `renewal_pending`,
/// `change_pending`, `offer_withdrawn`; at `/items/{i}/offer_id`: `unknown_offer`; at
/// `/items/{i}/billing_period`: `required` (with an offer), `period_not_offered`,
/// `period_below_minimum`, `period_already_over`, `beyond_renewal_horizon`; at
/// `/items/{i}/options/…`: `unknown_option`, `out_of_range`; at `/items/{i}/options`:
/// `not_allowed` (with a product); at `/items`: `out_of_range` (not 1 to 50). Holders of
/// `accounting`. Send an `Idempotency-Key`: a retry gives the same pro forma. Tokens need
/// `billing:write`.
#[utoipa::path(
    operation_id = "create_pro_forma",
    tag = "renewals",
    security(("bearer_jwt" = []), ("personal_token" = [])),
    params(("org_id" = String, Path, description = "The organisation's id (`org_…`)", example = "org_01936d7a6b2f7c3e9d4a5b6c7d8e9f00")),
    extensions(("x-leman-permission" = json!(AccountingWrites::NEED)), ("x-leman-scope" = json!(AccountingWrites::SCOPE))),
    request_body = CreateProForma,
    responses(
        (status = 201, description = "The pro forma; `Location` is its address", body = ProFormaView,
         headers(("Location" = String, description = "`/v1/orgs/{org_id}/pro-forma-invoices/{pro_forma_id}`"))),
        Unauthenticated,
        OrgAccess,
        JsonBody,
        Busy,
        Common,
    )
)]
#[post("/orgs/{org_id}/pro-forma-invoices")]
pub async fn create_pro_forma(
    org: InOrg<AccountingWrites>,
    services: web::Data<Services>,
    meta: Origin,
    body: Json<CreateProForma>,
) -> Result<HttpResponse, AppError> {
    let items = body
        .0
        .items
        .into_iter()
        .map(|i| ItemInput {
            product_id: i.product_id,
            offer_id: i.offer_id,
            billing_period: i.billing_period,
            options: i.options,
        })
        .collect();
    let pf = pro_forma::create(&services, meta, &org, items).await?;
    let location = format!(
        "/v1/orgs/{}/pro-forma-invoices/{}",
        pf.organization_id, pf.id
    );
    Ok(HttpResponse::Created()
        .insert_header((actix_web::http::header::LOCATION, location))
        .json(ProFormaView::new(
            &pf,
            &renewals::pro_forma_lines(&pf),
            &[],
            None,
            crate::db::now(),
        )))
}
