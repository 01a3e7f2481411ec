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
//! | `tok_visa_refund_slow` | Visa ····0077 | approved; a refund of it takes `SLOW_REFUND` |
//! | `tok_visa_refund_fails` | Visa ····0119 | approved; a refund of it answers "unavailable" |
//!
//! TWINT, PostFinance, PayPal, eBill and bank transfers are always pending until a webhook event
//! (`payment.succeeded` / `payment.failed`) settles them.
//!
//! Like a real provider, the sandbox honours an idempotency key: `Charge.payment_id`. It keeps a
//! log of its charges (`sandbox_charges`, through `models::sandbox_charges`: the one place a
//! gateway touches the database, as the provider's own records would be); a charge with a key
//! already there answers the first charge's outcome and charges nothing.

use rust_decimal::Decimal;

use crate::domain::billing_states::MethodType;

use super::{CardDetails, Charge, ChargeOutcome, GatewayError, PaymentGateway};

/// The database pool the sandbox keeps its charge log in.
pub type Pool = crate::db::Pool;

/// The sandbox; with a pool it keeps its charge log (idempotency keys), without one (unit tests)
/// it only answers.
#[derive(Clone, Default)]
pub struct Sandbox {
    pub pool: Option<Pool>,
}

impl Sandbox {
    pub fn new(pool: Pool) -> Self {
        Self { pool: Some(pool) }
    }

    /// Answers from the token, as the provider would on a first charge.
    fn answer(&self, charge: &Charge<'_>) -> Result<ChargeOutcome, GatewayError> {
        if charge.method_type != MethodType::Card {
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
            "tok_visa_refund_slow" => ChargeOutcome::Approved {
                reference: reference(&format!("{SLOW}{}", charge.payment_id)),
            },
            "tok_visa_refund_fails" => ChargeOutcome::Approved {
                reference: reference(&format!("{FAILS}{}", charge.payment_id)),
            },
            // Charged, but its answer is lost on the way back (`charge` says so after recording).
            NO_ANSWER => ChargeOutcome::Approved {
                reference: reference(charge.payment_id),
            },
            _ => return Err(GatewayError::InvalidToken),
        })
    }
}

fn encode(outcome: &ChargeOutcome) -> (String, String) {
    match outcome {
        ChargeOutcome::Approved { reference } => ("approved".into(), reference.clone()),
        ChargeOutcome::Pending { reference } => ("pending".into(), reference.clone()),
        ChargeOutcome::Declined { code } => (format!("declined:{code}"), String::new()),
    }
}

fn decode(outcome: &str, reference: String) -> ChargeOutcome {
    match outcome.strip_prefix("declined:") {
        Some(code) => ChargeOutcome::Declined { code: code.into() },
        None if outcome == "pending" => ChargeOutcome::Pending { reference },
        None => ChargeOutcome::Approved { reference },
    }
}

/// How long the provider takes to refund a `tok_visa_refund_slow` charge: long enough to see
/// that nothing waits on it.
pub const SLOW_REFUND: std::time::Duration = std::time::Duration::from_secs(4);

/// Marks in a charge's reference that tell its refund's behaviour (the refund sees only it).
const SLOW: &str = "slowrefund_";
const FAILS: &str = "failrefund_";

/// The card whose charges the provider makes but never answers (a timeout after the charge).
const NO_ANSWER: &str = "tok_visa_no_answer";

const CARDS: [(&str, &str, &str); 8] = [
    ("tok_visa", "visa", "4242"),
    ("tok_mastercard", "mastercard", "4444"),
    ("tok_visa_decline", "visa", "0002"),
    ("tok_visa_insufficient_funds", "visa", "9995"),
    ("tok_visa_async", "visa", "3184"),
    ("tok_visa_refund_slow", "visa", "0077"),
    ("tok_visa_refund_fails", "visa", "0119"),
    (NO_ANSWER, "visa", "0341"),
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
        let outcome = self.answer(charge)?;
        let lost = charge.token == Some(NO_ANSWER);
        let Some(pool) = &self.pool else {
            return if lost {
                Err(GatewayError::Unavailable(
                    "no answer from the provider".into(),
                ))
            } else {
                Ok(outcome)
            };
        };
        let (code, reference) = encode(&outcome);
        let row = crate::models::sandbox_charges::SandboxCharge {
            idempotency_key: charge.payment_id.to_string(),
            reference,
            outcome: code,
            amount_minor: crate::domain::money::to_minor(charge.amount),
            currency: charge.currency.to_string(),
            created_at: crate::db::now(),
        };
        let mut conn = pool
            .get()
            .map_err(|e| GatewayError::Unavailable(e.to_string()))?;
        let first = crate::models::sandbox_charges::record_once(&mut conn, &row)
            .map_err(|e| GatewayError::Unavailable(e.to_string()))?;
        if lost {
            return Err(GatewayError::Unavailable(
                "no answer from the provider".into(),
            ));
        }
        Ok(decode(&first.outcome, first.reference))
    }

    fn charge_on_record(&self, payment_id: &str) -> Result<Option<ChargeOutcome>, GatewayError> {
        let Some(pool) = &self.pool else {
            return Ok(None);
        };
        let mut conn = pool
            .get()
            .map_err(|e| GatewayError::Unavailable(e.to_string()))?;
        let found = crate::models::sandbox_charges::find(&mut conn, payment_id)
            .map_err(|e| GatewayError::Unavailable(e.to_string()))?;
        Ok(found.map(|c| decode(&c.outcome, c.reference)))
    }

    fn refund(
        &self,
        refund_id: &str,
        reference: &str,
        _: Decimal,
        _: &str,
    ) -> Result<String, GatewayError> {
        if reference.contains(FAILS) {
            return Err(GatewayError::Refused(
                "the sandbox refuses this refund".into(),
            ));
        }
        if reference.contains(SLOW) {
            tracing::info!(reference, "sandbox: a slow refund under way");
            std::thread::sleep(SLOW_REFUND);
        }
        // Idempotent by our refund id, as a real provider's idempotency key is.
        Ok(format!("{reference}_refund_{refund_id}"))
    }
}
