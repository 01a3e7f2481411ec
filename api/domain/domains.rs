//! The vocabulary of domains: their states, the EPP statuses a registry reports, the state of a
//! transfer out, and domain names as customers type them (Unicode or punycode, any case) and as
//! registries know them (ASCII, lower case).

use crate::domain::invalid;
use crate::error::FieldError;

text_enum! {
    /// A domain's state with us: `registering` (paid, waiting for the registry), `active`,
    /// `expired` (past its term, still renewable), `failed` (the registry refused the creation;
    /// the money went back), `transferred_out` (now at another registrar), `cancelled`.
    pub enum DomainStatus {
        Registering = "registering",
        Active = "active",
        Expired = "expired",
        Failed = "failed",
        TransferredOut = "transferred_out",
        Cancelled = "cancelled",
    }
}

text_enum! {
    /// A transfer out: `none`; `code_sent` (a code went to the owner); `requested` (a registrar
    /// asked for the domain with it); then `completed`, `cancelled` (the code cleared or the
    /// request withdrawn) or `rejected` (the owner refused the request).
    pub enum TransferState {
        None = "none",
        CodeSent = "code_sent",
        Requested = "requested",
        Completed = "completed",
        Cancelled = "cancelled",
        Rejected = "rejected",
    }
}

text_enum! {
    /// A domain status as EPP names it (RFC 5731, with the grace states of RFC 3915). The
    /// registrar's lock is `clientTransferProhibited`.
    pub enum EppStatus {
        Ok = "ok",
        Inactive = "inactive",
        PendingCreate = "pendingCreate",
        PendingDelete = "pendingDelete",
        PendingRenew = "pendingRenew",
        PendingTransfer = "pendingTransfer",
        PendingUpdate = "pendingUpdate",
        ClientDeleteProhibited = "clientDeleteProhibited",
        ClientRenewProhibited = "clientRenewProhibited",
        ClientTransferProhibited = "clientTransferProhibited",
        ClientUpdateProhibited = "clientUpdateProhibited",
        ClientHold = "clientHold",
        ServerDeleteProhibited = "serverDeleteProhibited",
        ServerRenewProhibited = "serverRenewProhibited",
        ServerTransferProhibited = "serverTransferProhibited",
        ServerUpdateProhibited = "serverUpdateProhibited",
        ServerHold = "serverHold",
        AddPeriod = "addPeriod",
        AutoRenewPeriod = "autoRenewPeriod",
        RenewPeriod = "renewPeriod",
        TransferPeriod = "transferPeriod",
        RedemptionPeriod = "redemptionPeriod",
        PendingRestore = "pendingRestore",
    }
}

/// Statuses kept as a JSON array of their EPP names.
pub fn statuses_to_json(statuses: &[EppStatus]) -> String {
    serde_json::to_string(statuses).unwrap_or_else(|_| "[]".into())
}

/// Reads a stored JSON array; an unknown name is dropped rather than failing a whole read.
pub fn statuses_from_json(raw: &str) -> Vec<EppStatus> {
    serde_json::from_str::<Vec<String>>(raw)
        .unwrap_or_default()
        .iter()
        .filter_map(|s| EppStatus::parse(s))
        .collect()
}

/// A domain name, normalised: `ascii` is what registries know (punycode, lower case, no final
/// dot), `unicode` how people write it, `tld` the extension (ASCII, without the dot) and
/// `label` the registered label (the part left of the extension, ASCII).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainName {
    pub ascii: String,
    pub unicode: String,
    pub label: String,
    pub tld: String,
}

impl DomainName {
    /// Normalises and checks a name as typed: IDNA (UTS 46) mapping to punycode, lower case,
    /// at most 253 characters in all and 63 per label, letters, digits and inner hyphens only, no
    /// `--` in the third and fourth places unless it is punycode (`xn--`), exactly one label
    /// below the extension (`example.ch`, not `www.example.ch`). `field` names the input in the
    /// 422.
    pub fn parse(raw: &str, field: &str) -> Result<Self, FieldError> {
        let bad = |m: &str| invalid(field, "invalid_domain_name", m);
        // A final root dot in any of its forms (ASCII, ideographic, full- and half-width).
        let trimmed = raw
            .trim()
            .trim_end_matches(['.', '\u{3002}', '\u{FF0E}', '\u{FF61}']);
        if trimmed.is_empty() {
            return Err(bad("is required"));
        }
        if trimmed.len() > 1024 {
            return Err(bad("is longer than 253 characters"));
        }
        let ascii =
            idna::domain_to_ascii_strict(trimmed).map_err(|_| bad("is not a valid domain name"))?;
        if ascii.len() > 253 {
            return Err(bad("is longer than 253 characters"));
        }
        let labels: Vec<&str> = ascii.split('.').collect();
        if labels.len() != 2 {
            return Err(bad(
                "must be one name under an extension, such as example.ch (no subdomain)",
            ));
        }
        for l in &labels {
            let ok = !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && (l.get(2..4) != Some("--") || l.starts_with("xn--"));
            if !ok {
                return Err(bad(
                    "labels have 1 to 63 letters, digits or inner hyphens (no -- in third and fourth place)",
                ));
            }
        }
        let (unicode, result) = idna::domain_to_unicode(&ascii);
        result.map_err(|_| bad("is not a valid domain name"))?;
        Ok(Self {
            label: labels[0].to_string(),
            tld: labels[1].to_string(),
            unicode,
            ascii,
        })
    }
}

/// A domain contact as registries keep it (the owner is the registrant; WHOIS shows it unless
/// privacy hides it). `phone` is E.164 (`+41.xx` or `+41xx…`); `country` ISO 3166-1 alpha-2.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    #[schema(example = "Alice Muster")]
    pub name: String,
    #[schema(example = "Muster AG")]
    pub organization: Option<String>,
    #[schema(example = "Rue du Lac 1")]
    pub address_line1: String,
    pub address_line2: Option<String>,
    #[schema(example = "1003")]
    pub postal_code: String,
    #[schema(example = "Lausanne")]
    pub city: String,
    #[schema(example = "CH")]
    pub country: String,
    #[schema(example = "alice@example.ch")]
    pub email: String,
    #[schema(example = "+41211234567")]
    pub phone: Option<String>,
}

/// The three contacts a registration has.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "owner": {"name": "Alice Muster", "organization": "Muster AG", "address_line1": "Rue du Lac 1",
        "address_line2": null, "postal_code": "1003", "city": "Lausanne", "country": "CH",
        "email": "alice@example.ch", "phone": "+41211234567"},
    "admin": {"name": "Alice Muster", "organization": "Muster AG", "address_line1": "Rue du Lac 1",
        "address_line2": null, "postal_code": "1003", "city": "Lausanne", "country": "CH",
        "email": "alice@example.ch", "phone": "+41211234567"},
    "tech": {"name": "Tech Team", "organization": null, "address_line1": "Rue du Lac 1",
        "address_line2": null, "postal_code": "1003", "city": "Lausanne", "country": "CH",
        "email": "tech@example.ch", "phone": null}
}))]
pub struct Contacts {
    pub owner: Contact,
    pub admin: Contact,
    pub tech: Contact,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_normalised_to_lower_case_punycode() {
        let n = DomainName::parse(" Müller.CH. ", "name").unwrap();
        assert_eq!(n.ascii, "xn--mller-kva.ch");
        assert_eq!(n.unicode, "müller.ch");
        assert_eq!(n.tld, "ch");
        assert_eq!(n.label, "xn--mller-kva");
        let p = DomainName::parse("xn--mller-kva.ch", "name").unwrap();
        assert_eq!(p, n);
    }

    #[test]
    fn bad_names_are_refused() {
        for raw in [
            "",
            "ch",
            "-a.ch",
            "a-.ch",
            "www.example.ch",
            "ab--cd.ch",
            "a_b.ch",
            "exa mple.ch",
            &format!("{}.ch", "a".repeat(64)),
        ] {
            let e = DomainName::parse(raw, "name").unwrap_err();
            assert_eq!(e.code, "invalid_domain_name", "{raw}");
        }
        assert!(DomainName::parse(&format!("{}.ch", "a".repeat(63)), "name").is_ok());
    }

    #[test]
    fn statuses_round_trip_through_json() {
        let s = vec![EppStatus::Ok, EppStatus::ClientTransferProhibited];
        assert_eq!(statuses_to_json(&s), r#"["ok","clientTransferProhibited"]"#);
        assert_eq!(statuses_from_json(&statuses_to_json(&s)), s);
    }
}

/// Property tests (issue 15, part 7): any text is a domain name or a 422, never a panic; a
/// parsed name parses back to itself from either of its forms.
#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn any_text_is_a_domain_name_or_a_field_error(
            raw in prop_oneof![
                any::<String>(),
                "[a-zA-Z0-9äöüéèàçß\u{3002}\u{FF0E}.-]{1,70}",
                "xn--[a-z0-9-]{1,20}\\.[a-z]{2,3}",
            ]
        ) {
            match DomainName::parse(&raw, "/name") {
                Ok(n) => {
                    prop_assert!(n.ascii.is_ascii() && n.ascii.len() <= 253);
                    prop_assert_eq!(format!("{}.{}", n.label, n.tld), n.ascii.clone());
                    prop_assert_eq!(DomainName::parse(&n.ascii, "/name").unwrap(), n.clone());
                    prop_assert_eq!(DomainName::parse(&n.unicode, "/name").unwrap(), n);
                }
                Err(e) => prop_assert_eq!(e.code, "invalid_domain_name"),
            }
        }

        #[test]
        fn a_name_parses_alike_whatever_its_case_or_final_dot(
            label in "[a-z0-9äöü]([a-z0-9äöü-]{0,20}[a-z0-9äöü])?",
            tld in "(ch|li|com|de)",
            upper in any::<bool>(),
            dot in proptest::sample::select(vec!["", ".", "\u{3002}", "\u{FF0E}", "\u{FF61}"]),
        ) {
            let plain = format!("{label}.{tld}");
            let typed = if upper { plain.to_uppercase() } else { plain.clone() };
            let a = DomainName::parse(&plain, "/name");
            let b = DomainName::parse(&format!("{typed}{dot}"), "/name");
            prop_assert_eq!(a.is_ok(), b.is_ok());
            if let (Ok(a), Ok(b)) = (a, b) {
                prop_assert_eq!(a, b);
            }
        }
    }
}
