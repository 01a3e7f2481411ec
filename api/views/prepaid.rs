//! The prepaid account and its ledger as the API shows them.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::billing::money;
use super::utc;
use crate::domain::billing_states::PrepaidTransactionKind;
use crate::domain::money::Money;
use crate::models::prepaid::PrepaidTransaction;

/// The prepaid account and its limits.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "balance": {"amount": "120.00", "currency": "CHF"},
    "top_up_min": {"amount": "10.00", "currency": "CHF"}, "top_up_max": {"amount": "10000.00", "currency": "CHF"},
    "ceiling": {"amount": "50000.00", "currency": "CHF"}
}))]
pub struct PrepaidAccountView {
    pub balance: Money,
    pub top_up_min: Money,
    pub top_up_max: Money,
    /// The balance never exceeds it.
    pub ceiling: Money,
}

/// One movement of the prepaid account.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "ptx_01936d7a6b2f7c3e9d4a5b6c7d8e9f14", "kind": "top_up",
    "amount": {"amount": "100.00", "currency": "CHF"}, "balance_after": {"amount": "120.00", "currency": "CHF"},
    "payment_id": "pay_01936d7a6b2f7c3e9d4a5b6c7d8e9f12", "invoice_id": null, "iban": null,
    "created_at": "2026-11-26T09:00:00Z"
}))]
pub struct PrepaidTransactionView {
    pub id: String,
    pub kind: PrepaidTransactionKind,
    /// Positive in, negative out.
    pub amount: Money,
    pub balance_after: Money,
    pub payment_id: Option<String>,
    pub invoice_id: Option<String>,
    /// For withdrawals: the account, masked.
    pub iban: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<&PrepaidTransaction> for PrepaidTransactionView {
    fn from(t: &PrepaidTransaction) -> Self {
        Self {
            id: t.id.clone(),
            kind: t.kind,
            amount: money(t.amount_minor, &t.currency),
            balance_after: money(t.balance_after_minor, &t.currency),
            payment_id: t.payment_id.clone(),
            invoice_id: t.invoice_id.clone(),
            iban: t.iban.clone(),
            created_at: utc(t.created_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"data": [], "next_cursor": null}))]
pub struct PrepaidTransactionList {
    pub data: Vec<PrepaidTransactionView>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}
