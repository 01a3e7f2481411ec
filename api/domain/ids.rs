//! Ids: `<prefix>_<32 hex>` (a UUIDv7 in hex behind a prefix naming the kind of object).

use crate::error::AppError;

/// A path id: `<prefix>_<32 hex>`; anything else cannot exist, so it is a 404 (never a query
/// with garbage, such as a NUL byte PostgreSQL would refuse).
pub fn path_id(raw: &str, prefix: &str, what: &str) -> Result<String, AppError> {
    let ok = raw
        .strip_prefix(prefix)
        .and_then(|r| r.strip_prefix('_'))
        .is_some_and(|hex| hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_hexdigit()));
    if ok {
        Ok(raw.to_string())
    } else {
        Err(AppError::not_found(format!("No such {what}.")))
    }
}

/// A typed id: `OrgId`, `InvoiceId`, … Parsing checks the prefix and shape once (anything else
/// cannot exist: the same 404 as an unknown id); afterwards the value is passed around as its
/// type. It derefs to `&str`, for queries and for code not yet typed.
macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $prefix:literal, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub const PREFIX: &'static str = $prefix;

            /// An id from a path or a body: 404 `not_found` unless shaped like one.
            pub fn parse(raw: &str) -> Result<Self, AppError> {
                path_id(raw, $prefix, $what).map(Self)
            }

            /// A fresh id (UUIDv7: ordered by creation).
            pub fn generate() -> Self {
                Self(format!("{}_{}", $prefix, uuid::Uuid::now_v7().simple()))
            }

            /// An id read from the database, trusted as it is.
            pub fn from_db(raw: impl Into<String>) -> Self {
                Self(raw.into())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_inner(self) -> String {
                self.0
            }
        }

        impl std::ops::Deref for $name {
            type Target = str;

            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<String> for $name {
            fn eq(&self, other: &String) -> bool {
                &self.0 == other
            }
        }
    };
}

id_type!(
    /// An organisation (`org_…`).
    OrgId, "org", "organisation"
);
id_type!(
    /// A user (`usr_…`); under an organisation, a member.
    UserId, "usr", "member"
);
id_type!(
    /// An invoice (`inv_…`).
    InvoiceId, "inv", "invoice"
);
id_type!(
    /// An order (`ord_…`).
    OrderId, "ord", "order"
);
id_type!(
    /// A product (`prd_…`).
    ProductId, "prd", "product"
);
id_type!(
    /// A domain (`dom_…`).
    DomainId, "dom", "domain"
);
id_type!(
    /// A payment (`pay_…`).
    PaymentId, "pay", "payment"
);
id_type!(
    /// A saved payment method (`pm_…`).
    PaymentMethodId, "pm", "payment method"
);
id_type!(
    /// An invitation (`inv…` is taken by invoices: `ivt_…`).
    InvitationId, "ivt", "invitation"
);
id_type!(
    /// A session (`ses_…`).
    SessionId, "ses", "session"
);
id_type!(
    /// A personal or application token (`tok_…`).
    TokenId, "tok", "token"
);
id_type!(
    /// A refund (`rfd_…`).
    RefundId, "rfd", "refund"
);
id_type!(
    /// A credit note (`cn_…`), one per refund.
    CreditNoteId, "cn", "credit note"
);
id_type!(
    /// A pro forma invoice (`pf_…`).
    ProFormaId, "pf", "pro forma"
);
id_type!(
    /// A task (`task_…`): long work answered 202 and run as a job.
    TaskId, "task", "task"
);
id_type!(
    /// A feedback message (`fbk_…`).
    FeedbackId, "fbk", "feedback"
);
id_type!(
    /// An outgoing webhook endpoint (`whe_…`).
    WebhookEndpointId, "whe", "webhook endpoint"
);
id_type!(
    /// One event's delivery to one webhook endpoint (`whd_…`).
    WebhookDeliveryId, "whd", "webhook delivery"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_ids_parse_their_own_prefix_only() {
        let org = OrgId::generate();
        assert_eq!(OrgId::parse(&org).unwrap(), org);
        let e = OrgId::parse(&UserId::generate()).unwrap_err();
        assert_eq!(
            (e.status.as_u16(), e.detail.as_str()),
            (404, "No such organisation.")
        );
        assert!(InvoiceId::parse("inv_0").is_err());
        assert_eq!(&*org, org.as_str());
    }

    #[test]
    fn path_ids_have_a_shape() {
        let id = SessionId::generate().into_inner();
        assert_eq!(path_id(&id, "ses", "session").unwrap(), id);
        assert!(path_id("ses_123", "ses", "session").is_err());
        assert!(path_id(&id.replace("ses", "usr"), "ses", "session").is_err());
        assert!(path_id("ses_\0", "ses", "session").is_err());
    }
}

/// Property tests (issue 15, part 7): any text is an id of its kind or a 404, never a panic.
#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn any_text_is_an_id_of_its_kind_or_a_404(
            raw in prop_oneof![any::<String>(), "[a-z]{3}_[0-9a-fA-F]{30,34}", "org_.{32}"]
        ) {
            let shaped = raw
                .strip_prefix("org_")
                .is_some_and(|hex| hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_hexdigit()));
            match OrgId::parse(&raw) {
                Ok(id) => {
                    prop_assert!(shaped);
                    prop_assert_eq!(id.as_str(), raw.as_str());
                }
                Err(e) => {
                    prop_assert!(!shaped);
                    prop_assert_eq!(e.status.as_u16(), 404);
                }
            }
        }

        #[test]
        fn a_generated_id_parses_back_as_itself_and_only_as_its_kind(_n in 0u8..8) {
            let id = InvoiceId::generate();
            prop_assert_eq!(InvoiceId::parse(id.as_str()).unwrap(), id.clone());
            prop_assert!(OrgId::parse(id.as_str()).is_err());
        }
    }
}
