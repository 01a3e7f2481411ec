use actix_web::{HttpResponse, post, web};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::domain::money::Money;
use crate::error::ApiError;
use crate::error::responses::{Charge, Common, JsonBody, OrgAccess, Unauthenticated};
use crate::http::Json;
use crate::http::meta::RequestMeta;
use crate::services::prepaid::{self, TopUp};
use crate::startup::Services;
use crate::views::billing::PaymentView;

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

/// Top the prepaid account up from a saved method (R30): credited at once for a card (201), once
/// the provider confirms for others (202). Outside the limits, or above the balance ceiling:
/// 422 `amount_out_of_range`; another currency: 422 `currency_mismatch`. The payer gets a
/// receipt. Holders of `accounting`. Send an `Idempotency-Key`. Tokens need `billing:write`.
#[utoipa::path(
    operation_id = "top_up_prepaid_account",
    tag = "billing",
    security(("bearer_jwt" = []), ("personal_token" = ["billing:write"])),
    params(("org_id" = String, Path, description = "The organisation's id (`org_…`)", example = "org_01936d7a6b2f7c3e9d4a5b6c7d8e9f00")),
    extensions(("x-leman-permission" = json!("accounting"))),
    request_body = TopUpRequest,
    responses(
        (status = 201, description = "Credited", body = PaymentView),
        (status = 202, description = "Waiting for the provider's confirmation", body = PaymentView),
        Unauthenticated,
        OrgAccess,
        Charge,
        JsonBody,
        Common,
    )
)]
#[post("/orgs/{org_id}/prepaid-account/top-ups")]
pub async fn top_up_prepaid_account(
    caller: Caller,
    services: web::Data<Services>,
    meta: RequestMeta,
    org_id: web::Path<String>,
    body: Json<TopUpRequest>,
) -> Result<HttpResponse, ApiError> {
    let b = body.0;
    Ok(
        match prepaid::top_up(
            &services,
            meta,
            caller,
            org_id.into_inner(),
            b.amount,
            b.payment_method_id,
        )
        .await?
        {
            TopUp::Credited(p) => HttpResponse::Created().json(PaymentView::from(&p)),
            TopUp::Pending(p) => HttpResponse::Accepted().json(PaymentView::from(&p)),
        },
    )
}
