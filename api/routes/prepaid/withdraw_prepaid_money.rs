use actix_web::{HttpResponse, post, web};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::context::Services;
use crate::domain::actor::Origin;
use crate::domain::ids::OrgId;
use crate::domain::money::Money;
use crate::error::AppError;
use crate::error::responses::{Busy, Common, JsonBody, OrgSensitive, Unauthenticated};
use crate::http::Json;
use crate::http::org::{AccountingWrites, Requirement};
use crate::services::orgs::OrgRequest;
use crate::services::prepaid;
use crate::views::prepaid::PrepaidTransactionView;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"amount": {"amount": "120.00", "currency": "CHF"}, "iban": "CH93 0076 2011 6238 5295 7"}))]
pub struct WithdrawalRequest {
    /// In the organisation's currency; at most the balance.
    pub amount: Money,
    /// The bank account to send it to.
    #[schema(max_length = 50)]
    pub iban: String,
}

/// Withdraw prepaid money to a bank account
///
/// Withdraw prepaid money to a bank account (R32; needed before deleting the organisation). A
/// sensitive action: a recent authentication is required. The balance never goes below zero:
/// more than it holds is 409 `insufficient_prepaid_balance`, changing nothing. Holders of
/// `accounting`. Send an `Idempotency-Key`.
#[utoipa::path(
    operation_id = "withdraw_prepaid_money",
    tag = "billing",
    security(("bearer_jwt" = [])),
    params(("org_id" = String, Path, description = "The organisation's id (`org_…`)", example = "org_01936d7a6b2f7c3e9d4a5b6c7d8e9f00")),
    extensions(("x-leman-permission" = json!(AccountingWrites::NEED))),
    request_body = WithdrawalRequest,
    responses(
        (status = 201, description = "The ledger's withdrawal", body = PrepaidTransactionView),
        Unauthenticated,
        OrgSensitive,
        (status = 409, description = "The balance does not cover it (`insufficient_prepaid_balance`)", body = crate::error::Problem, content_type = "application/problem+json",
         example = json!({"type": "urn:leman:problem:insufficient_prepaid_balance", "title": "Conflict", "status": 409, "detail": "The balance does not cover this withdrawal.", "code": "insufficient_prepaid_balance"})),
        JsonBody,
        // After JsonBody: replaces its 422 with one that also names the amount's own codes.
        (status = 422, description = "Wrong types, missing or unknown fields, or invalid values such as an IBAN that fails its check (`validation_failed`); card data (`card_data_not_accepted`); another currency than the organisation's (`currency_mismatch`)", body = crate::error::Problem, content_type = "application/problem+json",
         example = json!({"type": "urn:leman:problem:currency_mismatch", "title": "Unprocessable Content", "status": 422, "detail": "This organisation is billed in CHF: give amounts in it.", "code": "currency_mismatch"})),
        Busy,
        Common,
    )
)]
#[post("/orgs/{org_id}/prepaid-account/withdrawals")]
pub async fn withdraw_prepaid_money(
    caller: Caller,
    services: web::Data<Services>,
    meta: Origin,
    org_id: web::Path<String>,
    body: Json<WithdrawalRequest>,
) -> Result<HttpResponse, AppError> {
    // A sensitive action, for a person signed in recently: no token may do it, so there is no
    // token scope to check first (`InOrg` checks one); the membership, then the recent
    // authentication, are checked in the service's transaction.
    let org = OrgRequest {
        caller,
        org_id: OrgId::parse(&org_id)?,
        need: AccountingWrites::NEED,
    };
    let b = body.0;
    let t = prepaid::withdraw(&services, meta, &org, b.amount, b.iban).await?;
    Ok(HttpResponse::Created().json(PrepaidTransactionView::from(&t)))
}
