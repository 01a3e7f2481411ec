//! Payments and payment methods as the API shows them.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::billing::money;
use super::utc;
use crate::domain::billing_states::{PaymentMethodKind, PaymentMethodType, PaymentStatus};
use crate::domain::money::Money;
use crate::models::payment_methods::PaymentMethod;
use crate::models::payments::Payment;

/// Where to send a bank transfer.
#[derive(Debug, Serialize, ToSchema)]
pub struct TransferInstructions {
    pub iban: &'static str,
    pub beneficiary: &'static str,
    /// Quote it on the transfer: it matches the money to the invoice.
    pub reference: String,
}

/// A payment (of an invoice or a top-up).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "pay_01936d7a6b2f7c3e9d4a5b6c7d8e9f12", "status": "succeeded", "method": "payment_method",
    "payment_method_id": "pm_01936d7a6b2f7c3e9d4a5b6c7d8e9f05", "amount": {"amount": "58.37", "currency": "CHF"},
    "failure_code": null, "bank_transfer": null,
    "created_at": "2026-11-26T09:00:00Z", "settled_at": "2026-11-26T09:00:01Z"
}))]
pub struct PaymentView {
    pub id: String,
    pub status: PaymentStatus,
    pub method: PaymentMethodKind,
    pub payment_method_id: Option<String>,
    pub amount: Money,
    /// Why it failed: the provider's code (`card_declined`, `insufficient_funds`, …);
    /// `superseded` for a bank transfer replaced by another payment or by the order's expiry;
    /// `expired` for a charge the provider left unconfirmed past `LEMAN_PAYMENT_PENDING_DAYS`.
    /// Money that still arrives for those is credited to the prepaid account
    /// (`superseded_credited`, `expired_credited`).
    pub failure_code: Option<String>,
    /// For bank transfers: where to send the money.
    pub bank_transfer: Option<TransferInstructions>,
    pub created_at: DateTime<Utc>,
    pub settled_at: Option<DateTime<Utc>>,
}

/// Our account that bank transfers go to.
pub const PROVIDER_IBAN: &str = "CH93 0076 2011 6238 5295 7";

impl From<&Payment> for PaymentView {
    fn from(p: &Payment) -> Self {
        Self {
            id: p.id.clone(),
            status: p.status,
            method: p.method,
            payment_method_id: p.payment_method_id.clone(),
            amount: money(p.amount_minor, &p.currency),
            failure_code: p.failure_code.clone(),
            bank_transfer: (p.method == PaymentMethodKind::BankTransfer).then(|| {
                TransferInstructions {
                    iban: PROVIDER_IBAN,
                    beneficiary: "Leman SA, Genève",
                    reference: p.gateway_reference.clone().unwrap_or_default(),
                }
            }),
            created_at: utc(p.created_at),
            settled_at: p.settled_at.map(utc),
        }
    }
}

/// A card as we keep it.
#[derive(Debug, Serialize, ToSchema)]
pub struct CardView {
    /// `visa` or `mastercard`.
    pub brand: String,
    pub last4: String,
    pub exp_month: i32,
    pub exp_year: i32,
}

/// A way to pay: the prepaid account (always listed, id `prepaid`) or a saved method.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "pm_01936d7a6b2f7c3e9d4a5b6c7d8e9f05", "type": "card", "label": "Visa ····4242",
    "is_default": true, "card": {"brand": "visa", "last4": "4242", "exp_month": 12, "exp_year": 2030},
    "iban": null, "balance": null, "created_at": "2026-11-26T09:00:00Z"
}))]
pub struct PaymentMethodView {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: PaymentMethodType,
    pub label: String,
    pub is_default: bool,
    pub card: Option<CardView>,
    /// For bank accounts, masked.
    pub iban: Option<String>,
    /// For the prepaid account: its balance.
    pub balance: Option<Money>,
    pub created_at: Option<DateTime<Utc>>,
}

impl PaymentMethodView {
    pub fn prepaid(balance: Money, is_default: bool) -> Self {
        Self {
            id: "prepaid".into(),
            kind: PaymentMethodType::Prepaid,
            label: "Prepaid account".into(),
            is_default,
            card: None,
            iban: None,
            balance: Some(balance),
            created_at: None,
        }
    }

    pub fn saved(m: &PaymentMethod, is_default: bool) -> Self {
        Self {
            id: m.id.clone(),
            kind: m.kind.into(),
            label: m.label.clone(),
            is_default,
            card: match (
                &m.card_brand,
                &m.card_last4,
                m.card_exp_month,
                m.card_exp_year,
            ) {
                (Some(brand), Some(last4), Some(exp_month), Some(exp_year)) => Some(CardView {
                    brand: brand.clone(),
                    last4: last4.clone(),
                    exp_month,
                    exp_year,
                }),
                _ => None,
            },
            iban: m.iban.as_deref().map(crate::services::prepaid::mask_iban),
            balance: None,
            created_at: Some(utc(m.created_at)),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"data": [
    {"id": "prepaid", "type": "prepaid", "label": "Prepaid account", "is_default": false, "card": null, "iban": null, "balance": {"amount": "120.00", "currency": "CHF"}, "created_at": null},
    {"id": "pm_01936d7a6b2f7c3e9d4a5b6c7d8e9f05", "type": "card", "label": "Visa ····4242", "is_default": true, "card": {"brand": "visa", "last4": "4242", "exp_month": 12, "exp_year": 2030}, "iban": null, "balance": null, "created_at": "2026-11-26T09:00:00Z"}
]}))]
pub struct PaymentMethodList {
    /// The prepaid account first, then saved methods, oldest first.
    pub data: Vec<PaymentMethodView>,
}
