use actix_web::{HttpResponse, post, web};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::context::Services;
use crate::domain::actor::Origin;
use crate::domain::money::Money;
use crate::error::AppError;
use crate::error::responses::{Common, JsonBody, OrgAccess, Unauthenticated};
use crate::http::Json;
use crate::http::org::{AccountingWrites, InOrg, Requirement};
use crate::services::prepaid::{self, TopUp};
use crate::views::payments::PaymentView;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"amount": {"amount": "100.00", "currency": "CHF"}, "payment_method_id": "pm_01936d7a6b2f7c3e9d4a5b6c7d8e9f05"}))]
pub struct TopUpRequest {
    /// In the organisation's currency, within the configured minimum and maximum.
    pub amount: Money,
    /// The saved method to charge.
    #[schema(max_length = 40)]
    pub payment_method_id: String,
}

/// Top the prepaid account up
///
/// Top the prepaid account up from a saved method (R30): credited at once for a card (201), once
/// the provider confirms for others (202). Outside the limits, or above the balance ceiling:
/// 422 `amount_out_of_range`; another currency: 422 `currency_mismatch`. The payer gets a
/// receipt. Holders of `accounting`. Send an `Idempotency-Key`. Tokens need `billing:write`.
#[utoipa::path(
    operation_id = "top_up_prepaid_account",
    tag = "billing",
    security(("bearer_jwt" = []), ("personal_token" = [])),
    params(("org_id" = String, Path, description = "The organisation's id (`org_…`)", example = "org_01936d7a6b2f7c3e9d4a5b6c7d8e9f00")),
    extensions(("x-leman-permission" = json!(AccountingWrites::NEED)), ("x-leman-scope" = json!(AccountingWrites::SCOPE))),
    request_body = TopUpRequest,
    responses(
        (status = 201, description = "Credited", body = PaymentView),
        (status = 202, description = "Waiting for the provider's confirmation", body = PaymentView),
        Unauthenticated,
        OrgAccess,
        (status = 402, description = "The payment was declined by the provider (`payment_declined`); nothing was charged", body = crate::error::Problem, content_type = "application/problem+json",
         example = json!({"type": "urn:leman:problem:payment_declined", "title": "Payment Required", "status": 402, "detail": "The payment was declined (card_declined); nothing was charged. Try another method.", "code": "payment_declined"})),
        (status = 409, description = "This payment was given up before the provider answered and was charged after all: its amount went to the prepaid account all the same (`payment_given_up`); read the prepaid account, do not top up again for it", body = crate::error::Problem, content_type = "application/problem+json",
         example = json!({"type": "urn:leman:problem:payment_given_up", "title": "Conflict", "status": 409, "detail": "This payment was given up before the provider answered, then charged after all: the amount went to the organisation's prepaid account. Read the prepaid account and the invoice; do not pay again by card.", "code": "payment_given_up"})),
        JsonBody,
        // After JsonBody: replaces its 422 with one that also names the amount's own codes.
        (status = 422, description = "Wrong types, missing or unknown fields, or invalid values such as an unknown `payment_method_id` (`validation_failed`); card data (`card_data_not_accepted`); an amount below the minimum or above the maximum top-up, or that would take the balance (with the top-ups still being confirmed) above the ceiling (`amount_out_of_range`); another currency than the organisation's (`currency_mismatch`)", body = crate::error::Problem, content_type = "application/problem+json",
         example = json!({"type": "urn:leman:problem:amount_out_of_range", "title": "Unprocessable Content", "status": 422, "detail": "A top-up is between CHF 10.00 and CHF 10000.00.", "code": "amount_out_of_range"})),
        (status = 503, description = "The payment provider did not answer (`payment_provider_unavailable`): the charge may have been made, so the payment stays pending until the provider is asked again (within minutes) and then settles or fails; do not pay again meanwhile; or concurrent changes to the same organisation got in the way even after retrying, nothing was changed: retry after `Retry-After` seconds (`database_busy`)", body = crate::error::Problem, content_type = "application/problem+json", headers(("Retry-After" = u64, description = "Seconds to wait (with `database_busy`)")),
         example = json!({"type": "urn:leman:problem:payment_provider_unavailable", "title": "Service Unavailable", "status": 503, "detail": "the payment provider is unavailable: no answer from the provider; the charge may have been made: the payment stays pending until the provider is asked again (within minutes), and is then settled or failed. Do not pay again meanwhile: read the payment, invoice or prepaid account for its outcome.", "code": "payment_provider_unavailable"})),
        Common,
    )
)]
#[post("/orgs/{org_id}/prepaid-account/top-ups")]
pub async fn top_up_prepaid_account(
    org: InOrg<AccountingWrites>,
    services: web::Data<Services>,
    meta: Origin,
    body: Json<TopUpRequest>,
) -> Result<HttpResponse, AppError> {
    let b = body.0;
    Ok(
        match prepaid::top_up(&services, meta, &org, b.amount, b.payment_method_id).await? {
            TopUp::Credited(p) => HttpResponse::Created().json(PaymentView::from(&p)),
            TopUp::Pending(p) => HttpResponse::Accepted().json(PaymentView::from(&p)),
        },
    )
}
