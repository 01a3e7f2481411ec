//! The states and kinds of billing, each written once: the database stores them as text
//! (`text_enum!`), the API shows them by the same names, list filters parse into them, and the
//! services compare them as values (never as strings).

text_enum! {
    /// An invoice's status: issued `open`, then `paid` (and perhaps `partially_refunded` or
    /// `refunded`), or `cancelled` with its expired order (keeping its number).
    pub enum InvoiceStatus {
        Open = "open",
        Paid = "paid",
        PartiallyRefunded = "partially_refunded",
        Refunded = "refunded",
        Cancelled = "cancelled",
    }
}

impl InvoiceStatus {
    /// Whether some of what was paid can still go back.
    pub fn is_refundable(self) -> bool {
        matches!(self, Self::Paid | Self::PartiallyRefunded)
    }
}

text_enum! {
    /// An order's status: `open` (waiting for payment), `paid`, `cancelled` (expired unpaid).
    pub enum OrderStatus {
        Open = "open",
        Paid = "paid",
        Cancelled = "cancelled",
    }
}

text_enum! {
    /// A product's status. A domain is `provisioning` from payment until the registry confirmed
    /// its creation, and `failed` if the registry refused it (the money went back).
    pub enum ProductStatus {
        PendingPayment = "pending_payment",
        Provisioning = "provisioning",
        Active = "active",
        Expired = "expired",
        Suspended = "suspended",
        CancellationPending = "cancellation_pending",
        Cancelled = "cancelled",
        Failed = "failed",
    }
}

text_enum! {
    /// A renewal's (or a paid product change's) state: `pending` until its order is paid, then
    /// `applied` (once); `voided` when its order or pro forma lapsed unpaid.
    pub enum ChangeStatus {
        Pending = "pending",
        Applied = "applied",
        Voided = "voided",
    }
}

text_enum! {
    /// A pro forma's state, read from its data: `awaiting_transfer`, `paid` (its invoice
    /// issued), `lapsed` (unpaid in time: its renewals voided, or a pro forma made on request
    /// past its validity) or `credited` (made on request, its transfer arrived: the money went
    /// to the prepaid account; nothing was ordered or invoiced).
    pub enum ProFormaStatus {
        AwaitingTransfer = "awaiting_transfer",
        Paid = "paid",
        Lapsed = "lapsed",
        Credited = "credited",
    }
}

text_enum! {
    /// A cancellation's state: `requested` (waiting for the mailed confirmation, R43),
    /// `confirmed`, or `withdrawn`.
    pub enum CancellationStatus {
        Requested = "requested",
        Confirmed = "confirmed",
        Withdrawn = "withdrawn",
    }
}

text_enum! {
    /// When a cancellation takes effect.
    pub enum CancellationWhen {
        EndOfTerm = "end_of_term",
        Now = "now",
    }
}

text_enum! {
    /// What an offer, and the product ordered from it, is.
    pub enum ProductKind {
        Domain = "domain",
        WebHosting = "web_hosting",
        SiteCreator = "site_creator",
        CloudServer = "cloud_server",
        PublicCloud = "public_cloud",
        Ksuite = "ksuite",
        Mail = "mail",
        Kdrive = "kdrive",
        SwissBackup = "swiss_backup",
        StreamingRadio = "streaming_radio",
        StreamingVideo = "streaming_video",
        Newsletter = "newsletter",
        SslCertificate = "ssl_certificate",
    }
}

text_enum! {
    /// A payment's status: `pending` (waiting for the provider), `succeeded`, `failed`.
    pub enum PaymentStatus {
        Pending = "pending",
        Succeeded = "succeeded",
        Failed = "failed",
    }
}

text_enum! {
    /// What a payment pays: an invoice, or a top-up of the prepaid account.
    pub enum PaymentPurpose {
        Invoice = "invoice",
        TopUp = "top_up",
    }
}

text_enum! {
    /// How an invoice is paid (and how a payment was made).
    pub enum PaymentMethodKind {
        /// The organisation's prepaid account: at once, if the balance covers it.
        Prepaid = "prepaid",
        /// A saved payment method: cards at once, others once the provider confirms.
        PaymentMethod = "payment_method",
        /// A bank transfer quoting the invoice's reference; confirmed by the provider.
        BankTransfer = "bank_transfer",
    }
}

text_enum! {
    /// The type of a saved payment method.
    pub enum MethodType {
        Card = "card",
        Twint = "twint",
        Postfinance = "postfinance",
        Paypal = "paypal",
        Ebill = "ebill",
        BankTransfer = "bank_transfer",
    }
}

text_enum! {
    /// The type of a way to pay as listed: the prepaid account, or a saved method's type.
    pub enum PaymentMethodType {
        Prepaid = "prepaid",
        Card = "card",
        Twint = "twint",
        Postfinance = "postfinance",
        Paypal = "paypal",
        Ebill = "ebill",
        BankTransfer = "bank_transfer",
    }
}

impl From<MethodType> for PaymentMethodType {
    fn from(t: MethodType) -> Self {
        match t {
            MethodType::Card => Self::Card,
            MethodType::Twint => Self::Twint,
            MethodType::Postfinance => Self::Postfinance,
            MethodType::Paypal => Self::Paypal,
            MethodType::Ebill => Self::Ebill,
            MethodType::BankTransfer => Self::BankTransfer,
        }
    }
}

text_enum! {
    /// A movement of the prepaid account.
    pub enum PrepaidTransactionKind {
        TopUp = "top_up",
        Payment = "payment",
        Withdrawal = "withdrawal",
        Refund = "refund",
    }
}

text_enum! {
    /// A refund's status: `pending` while the provider is asked, then `succeeded` or `failed`.
    pub enum RefundStatus {
        Pending = "pending",
        Succeeded = "succeeded",
        Failed = "failed",
    }
}

text_enum! {
    /// Where refunded money goes: the prepaid account, or the method that paid.
    pub enum RefundDestination {
        Prepaid = "prepaid",
        Original = "original",
    }
}

/// Failure codes we give a payment or a refund ourselves (the provider's own codes, such as
/// `card_declined`, pass through as they come).
pub mod failure {
    /// A bank transfer replaced by another payment or by the order's expiry.
    pub const SUPERSEDED: &str = "superseded";
    /// A charge the provider left unconfirmed past `LEMAN_PAYMENT_PENDING_DAYS`.
    pub const EXPIRED: &str = "expired";
    /// The provider could not be reached, or failed.
    pub const PROVIDER_ERROR: &str = "provider_error";
    /// The provider's webhook said the payment failed without a code.
    pub const DECLINED: &str = "declined";
    /// A charge whose request died before the provider answered, with no charge on the
    /// provider's record when asked (`payments::reconcile_unanswered`): nothing was taken.
    pub const UNANSWERED: &str = "unanswered";
    /// A given-up payment (`superseded`, `expired`, `unanswered`) whose money arrived and was
    /// credited.
    pub fn credited(given_up: &str) -> String {
        format!("{given_up}_credited")
    }
}

/// A repeated list filter (`?status=a&status=b`) of one of these enums: an unknown value is a
/// 422 naming the parameter, listing the values it takes.
pub mod filter {
    use serde::{Deserialize, Deserializer, de::Error};

    pub fn values<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
    where
        D: Deserializer<'de>,
        T: TryFrom<String> + Listed,
    {
        let raw = Vec::<String>::deserialize(d)?;
        raw.into_iter()
            .map(|v| {
                T::try_from(v).map_err(|_| {
                    D::Error::custom(format!("each value must be one of: {}", T::names()))
                })
            })
            .collect()
    }

    /// The values an enum takes, for the message of a refused one.
    pub trait Listed {
        fn names() -> String;
    }
}

macro_rules! listed {
    ($($t:ty),+) => {
        $(impl filter::Listed for $t {
            fn names() -> String {
                Self::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", ")
            }
        })+
    };
}

listed!(InvoiceStatus, OrderStatus, ProductStatus, ProductKind);

#[cfg(test)]
mod tests {
    use super::*;
    use utoipa::PartialSchema;

    /// The spec's names of an enum are its texts (`text_enum!` gives utoipa the serde names).
    fn spec_names<T: PartialSchema>() -> Vec<String> {
        let schema = serde_json::to_value(T::schema()).unwrap();
        serde_json::from_value(schema["enum"].clone()).unwrap()
    }

    fn texts<T: Copy>(all: &[T], as_str: fn(T) -> &'static str) -> Vec<String> {
        all.iter().map(|v| as_str(*v).to_string()).collect()
    }

    #[test]
    fn the_spec_names_every_state_by_its_text() {
        macro_rules! same {
            ($($t:ty),+) => {
                $(assert_eq!(spec_names::<$t>(), texts(<$t>::ALL, <$t>::as_str), stringify!($t));)+
            };
        }
        same!(
            InvoiceStatus,
            OrderStatus,
            ProductStatus,
            ProductKind,
            PaymentStatus,
            PaymentPurpose,
            PaymentMethodKind,
            MethodType,
            PaymentMethodType,
            PrepaidTransactionKind,
            RefundStatus,
            RefundDestination
        );
    }

    #[test]
    fn the_response_method_type_covers_the_saved_ones() {
        for t in MethodType::ALL {
            assert_eq!(PaymentMethodType::from(*t).as_str(), t.as_str());
        }
    }
}
