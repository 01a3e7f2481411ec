use actix_web::{HttpResponse, post, web};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::context::Services;
use crate::domain::actor::Origin;
use crate::domain::billing_states::MethodType;
use crate::error::AppError;
use crate::error::responses::{Common, JsonBody, OrgAccess, Unauthenticated};
use crate::http::Json;
use crate::http::org::{AccountingWrites, InOrg, Requirement};
use crate::services::payment_methods::{self, NewMethod};
use crate::views::payments::PaymentMethodView;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"type": "card", "token": "tok_visa"}))]
pub struct CreatePaymentMethod {
    #[serde(rename = "type")]
    pub kind: MethodType,
    /// For cards: the token of the payment provider's card form (never the card number).
    #[schema(max_length = 200)]
    pub token: Option<String>,
    /// For bank transfers: the account's IBAN.
    #[schema(max_length = 50, example = "CH93 0076 2011 6238 5295 7")]
    pub iban: Option<String>,
    /// For TWINT, PostFinance, PayPal and eBill: a name to recognise it by.
    #[schema(max_length = 100)]
    pub label: Option<String>,
}

/// Save a payment method (R29)
///
/// A card is registered with the token of the provider's form: only its brand, last four digits and
/// expiry are kept; a body holding a card number or security code is refused
/// (`card_data_not_accepted`). A bank account needs a valid IBAN. Holders of `accounting`. Tokens
/// need `billing:write`.
#[utoipa::path(
    operation_id = "create_payment_method",
    tag = "billing",
    security(("bearer_jwt" = []), ("personal_token" = [])),
    params(("org_id" = String, Path, description = "The organisation's id (`org_…`)", example = "org_01936d7a6b2f7c3e9d4a5b6c7d8e9f00")),
    extensions(("x-leman-permission" = json!(AccountingWrites::NEED)), ("x-leman-scope" = json!(AccountingWrites::SCOPE))),
    request_body = CreatePaymentMethod,
    responses(
        (status = 201, description = "The saved method", body = PaymentMethodView),
        Unauthenticated,
        OrgAccess,
        JsonBody,
        Common,
    )
)]
#[post("/orgs/{org_id}/payment-methods")]
pub async fn create_payment_method(
    org: InOrg<AccountingWrites>,
    services: web::Data<Services>,
    meta: Origin,
    body: Json<CreatePaymentMethod>,
) -> Result<HttpResponse, AppError> {
    let b = body.0;
    let input = NewMethod {
        kind: b.kind,
        token: b.token,
        iban: b.iban,
        label: b.label,
    };
    let method = payment_methods::create(&services, meta, &org, input).await?;
    Ok(HttpResponse::Created().json(PaymentMethodView::saved(&method, false)))
}
