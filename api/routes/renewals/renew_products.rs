use actix_web::{HttpResponse, post, web};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::context::Services;
use crate::domain::actor::Origin;
use crate::error::AppError;
use crate::error::responses::{Busy, Common, JsonBody, OrgAccess, Unauthenticated};
use crate::http::Json;
use crate::http::org::{AccountingWrites, InOrg, Requirement};
use crate::services::payments::PaymentInput;
use crate::services::renewals::{self, ItemInput, Renewed};
use crate::views::orders::OrderView;
use crate::views::renewals::ProFormaView;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RenewalItemInput {
    /// A product of the organisation (`prd_…`), listed by `GET …/renewals`.
    #[schema(example = "prd_01936d7a6b2f7c3e9d4a5b6c7d8e9f10", max_length = 100)]
    pub product_id: String,
    /// One of the periods the renewals list offers for it: `P1M`, `P3M`, `P1Y` … `P10Y`. It
    /// becomes the product's billing period once paid (R36).
    #[schema(example = "P2Y", max_length = 10)]
    pub billing_period: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"items": [{"product_id": "prd_01936d7a6b2f7c3e9d4a5b6c7d8e9f10", "billing_period": "P2Y"}, {"product_id": "prd_01936d7a6b2f7c3e9d4a5b6c7d8e9f14", "billing_period": "P1Y"}], "payment": {"method": "prepaid"}}))]
pub struct RenewProducts {
    /// 1 to 50 products, each once.
    #[schema(min_items = 1, max_items = 50)]
    pub items: Vec<RenewalItemInput>,
    /// Pay at once (as for orders); omitted, the order stays open (pay it later with
    /// `POST …/orders/{order_id}/payments`). `{"method": "bank_transfer"}` gives a pro forma.
    pub payment: Option<PaymentInput>,
}

/// Renew products on one order and one invoice
///
/// Renew products on one order and one invoice (R34, R35, R31): one line per product (and per
/// billed option) whose period starts at the product's current expiry — not today — and runs
/// for the period chosen for it. Paying the invoice extends each product's expiry by its period
/// exactly once, and the period becomes its billing period (R36); an order left unpaid lapses
/// and its renewals with it (the products unchanged). Paid from the prepaid account in the same
/// request (402 when the balance does not cover it: nothing is created) or by a saved method
/// (a declined charge leaves the order open; the answer's `payment` shows it); 201 with the
/// order, the renewed products and their terms. By bank transfer (R34) a **pro forma** comes
/// first (202): numbered `PF-YYYY-NNNNNN` outside the invoice sequence, of no legal value, with
/// the transfer's reference; the numbered invoice is issued when the money arrives.
/// Per item (422, pointer `/items/{i}/product_id`): `unknown_product` (also another
/// organisation's), `duplicate_item`, `product_not_renewable` (cancelled, pending payment),
/// `bundled_product`, `renewal_pending` (one awaits payment), `offer_withdrawn`; (pointer
/// `/items/{i}/billing_period`): `period_not_offered`, `period_below_minimum`,
/// `beyond_renewal_horizon` (past the latest renewal date). Holders of `accounting`. Send an
/// `Idempotency-Key`: a retry never renews twice. Tokens need `billing:write`.
#[utoipa::path(
    operation_id = "renew_products",
    tag = "renewals",
    security(("bearer_jwt" = []), ("personal_token" = [])),
    params(("org_id" = String, Path, description = "The organisation's id (`org_…`)", example = "org_01936d7a6b2f7c3e9d4a5b6c7d8e9f00")),
    extensions(("x-leman-permission" = json!(AccountingWrites::NEED)), ("x-leman-scope" = json!(AccountingWrites::SCOPE))),
    request_body = RenewProducts,
    responses(
        (status = 201, description = "The renewal order: its products, the terms it renews and any payment attempt", body = OrderView),
        (status = 202, description = "Paid by bank transfer: the pro forma to pay, with the transfer's reference; no invoice yet", body = ProFormaView),
        Unauthenticated,
        OrgAccess,
        (status = 402, description = "Paying from the prepaid account, whose balance does not cover the renewal (`insufficient_prepaid_balance`): nothing was created", body = crate::error::Problem, content_type = "application/problem+json",
         example = json!({"type": "urn:leman:problem:insufficient_prepaid_balance", "title": "Payment Required", "status": 402, "detail": "The prepaid account's balance does not cover this amount: top it up, or pay another way.", "code": "insufficient_prepaid_balance"})),
        (status = 409, description = "A renewal of one of these products for this term was made at the same moment (`renewal_pending`)", body = crate::error::Problem, content_type = "application/problem+json",
         example = json!({"type": "urn:leman:problem:renewal_pending", "title": "Conflict", "status": 409, "detail": "A renewal of this product for this term is already under way.", "code": "renewal_pending"})),
        JsonBody,
        Busy,
        Common,
    )
)]
#[post("/orgs/{org_id}/renewals")]
pub async fn renew_products(
    org: InOrg<AccountingWrites>,
    services: web::Data<Services>,
    meta: Origin,
    body: Json<RenewProducts>,
) -> Result<HttpResponse, AppError> {
    let b = body.0;
    let items = b
        .items
        .into_iter()
        .map(|i| ItemInput {
            product_id: i.product_id,
            billing_period: i.billing_period,
        })
        .collect();
    Ok(
        match renewals::renew(&services, meta, &org, items, b.payment).await? {
            Renewed::Order {
                order,
                products,
                renewals,
                payment,
            } => HttpResponse::Created()
                .json(OrderView::new(&order, &products, payment.as_ref()).with_renewals(&renewals)),
            Renewed::ProForma {
                pro_forma,
                renewals,
                payment,
            } => HttpResponse::Accepted().json(ProFormaView::new(
                &pro_forma,
                &renewals::pro_forma_lines(&pro_forma),
                &renewals,
                Some(&payment),
                crate::db::now(),
            )),
        },
    )
}
