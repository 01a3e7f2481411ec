//! The payment provider, behind `PaymentGateway`: registering a card from the provider's token,
//! charging a saved method, refunding a charge. The built-in `sandbox` provider answers from its
//! documented test tokens; a real provider implements the same trait.

pub mod sandbox;

use rust_decimal::Decimal;

use crate::domain::billing_states::MethodType;

/// What a card token stands for: all we keep of a card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardDetails {
    /// `visa` or `mastercard`.
    pub brand: String,
    pub last4: String,
    pub exp_month: i32,
    pub exp_year: i32,
}

/// One charge to make.
#[derive(Debug, Clone)]
pub struct Charge<'a> {
    /// The saved method's type and provider token, if any.
    pub method_type: MethodType,
    pub token: Option<&'a str>,
    pub amount: Decimal,
    pub currency: &'a str,
    /// Our payment id: the provider echoes it in its webhook events.
    pub payment_id: &'a str,
}

/// How a charge ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChargeOutcome {
    /// The money is ours (cards settle at once).
    Approved { reference: String },
    /// Refused; `code` says why (`card_declined`, `insufficient_funds`).
    Declined { code: String },
    /// The customer confirms elsewhere (TWINT, PostFinance, PayPal, eBill, bank transfer, some
    /// cards); the provider's webhook tells the outcome later.
    Pending { reference: String },
}

#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error("the card token is unknown or unusable")]
    InvalidToken,
    /// No answer (a timeout, a dropped connection): the provider may or may not have acted.
    #[error("the payment provider is unavailable: {0}")]
    Unavailable(String),
    /// A definite refusal: nothing was done.
    #[error("the payment provider refused: {0}")]
    Refused(String),
}

pub trait PaymentGateway: Send + Sync {
    /// What a card token from the provider's hosted form stands for.
    fn card_details(&self, token: &str) -> Result<CardDetails, GatewayError>;
    fn charge(&self, charge: &Charge<'_>) -> Result<ChargeOutcome, GatewayError>;
    /// What became of the charge made with the idempotency key `payment_id`, charging nothing
    /// (a provider's "retrieve by idempotency key"): its outcome, or `None` when no charge was
    /// made with that key. Reconciliation asks it about a charge whose answer was lost in a crash.
    fn charge_on_record(&self, payment_id: &str) -> Result<Option<ChargeOutcome>, GatewayError>;
    /// Sends `amount` of the charge `reference` back to where it came from. `refund_id` is ours
    /// and goes to the provider as the idempotency key: asking again with the same id (after a
    /// lost answer or a crash) never refunds twice, it answers the first refund's reference.
    fn refund(
        &self,
        refund_id: &str,
        reference: &str,
        amount: Decimal,
        currency: &str,
    ) -> Result<String, GatewayError>;
}

/// The payment provider adapters this build knows (`LEMAN_PAYMENT_GATEWAY`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GatewayKind {
    /// The built-in sandbox: answers from its documented test tokens, moves no real money.
    #[default]
    Sandbox,
}

impl GatewayKind {
    pub fn parse(raw: &str) -> Result<Self, String> {
        match raw {
            "" | "sandbox" => Ok(Self::Sandbox),
            other => Err(format!("unknown payment gateway `{other}`; known: sandbox")),
        }
    }
}

/// The adapter the configuration names; the sandbox keeps its charge log in `pool`.
pub fn from_config(
    config: &crate::config::Config,
    pool: sandbox::Pool,
) -> std::sync::Arc<dyn PaymentGateway> {
    match config.payment_gateway {
        GatewayKind::Sandbox => std::sync::Arc::new(sandbox::Sandbox::new(pool)),
    }
}
