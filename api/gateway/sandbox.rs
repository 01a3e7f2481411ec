//! The sandbox provider: no money moves; its test tokens decide the outcome (see
//! docs/payments.md).
//!
//! | token | card | charge |
//! |---|---|---|
//! | `tok_visa` | Visa ····4242, 12/2030 | approved |
//! | `tok_mastercard` | Mastercard ····4444, 12/2030 | approved |
//! | `tok_visa_decline` | Visa ····0002 | declined (`card_declined`) |
//! | `tok_visa_insufficient_funds` | Visa ····9995 | declined (`insufficient_funds`) |
//! | `tok_visa_async` | Visa ····3184 | pending, confirmed by a webhook event |
//!
//! TWINT, PostFinance, PayPal, eBill and bank transfers are always pending until a webhook event
//! (`payment.succeeded` / `payment.failed`) settles them.

use rust_decimal::Decimal;

use super::{CardDetails, Charge, ChargeOutcome, GatewayError, PaymentGateway};

pub struct Sandbox;

const CARDS: [(&str, &str, &str); 5] = [
    ("tok_visa", "visa", "4242"),
    ("tok_mastercard", "mastercard", "4444"),
    ("tok_visa_decline", "visa", "0002"),
    ("tok_visa_insufficient_funds", "visa", "9995"),
    ("tok_visa_async", "visa", "3184"),
];

fn reference(payment_id: &str) -> String {
    format!("sbx_{}", payment_id.trim_start_matches("pay_"))
}

impl PaymentGateway for Sandbox {
    fn card_details(&self, token: &str) -> Result<CardDetails, GatewayError> {
        CARDS
            .iter()
            .find(|(t, _, _)| *t == token)
            .map(|(_, brand, last4)| CardDetails {
                brand: brand.to_string(),
                last4: last4.to_string(),
                exp_month: 12,
                exp_year: 2030,
            })
            .ok_or(GatewayError::InvalidToken)
    }

    fn charge(&self, charge: &Charge<'_>) -> Result<ChargeOutcome, GatewayError> {
        if charge.method_type != "card" {
            return Ok(ChargeOutcome::Pending {
                reference: reference(charge.payment_id),
            });
        }
        Ok(match charge.token.unwrap_or_default() {
            "tok_visa" | "tok_mastercard" => ChargeOutcome::Approved {
                reference: reference(charge.payment_id),
            },
            "tok_visa_decline" => ChargeOutcome::Declined {
                code: "card_declined".into(),
            },
            "tok_visa_insufficient_funds" => ChargeOutcome::Declined {
                code: "insufficient_funds".into(),
            },
            "tok_visa_async" => ChargeOutcome::Pending {
                reference: reference(charge.payment_id),
            },
            _ => return Err(GatewayError::InvalidToken),
        })
    }

    fn refund(&self, reference: &str, _: Decimal, _: &str) -> Result<String, GatewayError> {
        Ok(format!("{reference}_refund_{}", crate::db::new_id("r")))
    }
}
