//! The domain extensions' own rules (R51), from `catalog/extensions.json`, checked at start with
//! the catalogue: who issues a transfer-out code and in what format, how long it is valid, the
//! transfer locks after registration, transfer and change of owner, whether WHOIS privacy
//! exists, the renewal horizon, grace and redemption, and how long the registry waits before it
//! approves a transfer. `.uk` has no code: the domain is released to the gaining registrar's tag.

use std::collections::HashMap;

use serde::Deserialize;

/// How a domain leaves for another registrar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransferMethod {
    /// The owner gives the gaining registrar an authorisation code.
    AuthCode,
    /// The registrar releases the domain to the gaining registrar's tag (.uk); irreversible.
    ReleaseToTag,
}

/// Who makes the authorisation code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CodeIssuer {
    /// We generate it and set it at the registry.
    Registrar,
    /// The registry generates it and hands it to us (.eu).
    Registry,
}

/// An authorisation code's shape and life.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CodeRules {
    pub issuer: CodeIssuer,
    /// Characters drawn (not counting group separators).
    pub length: usize,
    /// The characters a code is drawn from.
    pub alphabet: String,
    /// A hyphen every `group` characters (groups of four for .eu), if any.
    pub group: Option<usize>,
    pub validity_days: i64,
}

impl CodeRules {
    /// A fresh code from a cryptographic random source (`rand::rng()`: ChaCha12 seeded by the
    /// operating system, as for every secret we make).
    pub fn generate(&self) -> String {
        use rand::Rng;
        let alphabet: Vec<char> = self.alphabet.chars().collect();
        let mut rng = rand::rng();
        let mut out = String::with_capacity(self.length + self.length / 2);
        for i in 0..self.length {
            if let Some(g) = self.group
                && i > 0
                && i % g == 0
            {
                out.push('-');
            }
            out.push(alphabet[rng.random_range(0..alphabet.len())]);
        }
        out
    }
}

/// One extension's rules.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Extension {
    /// Without the dot: `ch`.
    pub tld: String,
    /// The catalogue offer a name under it is ordered from.
    pub offer: String,
    pub transfer: TransferMethod,
    /// `None` exactly when `transfer` is `release_to_tag`.
    pub code: Option<CodeRules>,
    pub lock_days_after_registration: i64,
    pub lock_days_after_transfer: i64,
    /// A transfer lock after a change of owner (0: none).
    pub lock_days_after_owner_change: i64,
    /// WHOIS privacy can be switched on.
    pub privacy: bool,
    pub horizon_years: i32,
    pub grace_days: i64,
    pub redemption_days: i64,
    /// Days the registry waits before approving a transfer the losing registrar did not refuse
    /// (0: it completes at once, as for .ch).
    pub transfer_wait_days: i64,
}

#[derive(Debug, Clone, Default)]
pub struct Extensions {
    by_tld: HashMap<String, Extension>,
    order: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExtensionsFile {
    #[allow(dead_code)]
    version: u32,
    extensions: Vec<Extension>,
}

impl Extensions {
    pub fn get(&self, tld: &str) -> Option<&Extension> {
        self.by_tld.get(tld)
    }

    /// The extension an offer sells, if it is a domain offer.
    pub fn of_offer(&self, offer_id: &str) -> Option<&Extension> {
        self.order
            .iter()
            .filter_map(|t| self.by_tld.get(t))
            .find(|e| e.offer == offer_id)
    }

    pub fn all(&self) -> impl Iterator<Item = &Extension> {
        self.order.iter().filter_map(|t| self.by_tld.get(t))
    }

    /// The built-in rules.
    pub fn builtin() -> Result<Self, String> {
        Self::from_json(include_str!("../catalog/extensions.json"))
    }

    pub fn from_json(raw: &str) -> Result<Self, String> {
        let file: ExtensionsFile =
            serde_json::from_str(raw).map_err(|e| format!("extensions file: {e}"))?;
        let mut out = Extensions::default();
        for e in file.extensions {
            check(&e).map_err(|m| format!("extension .{}: {m}", e.tld))?;
            if out.by_tld.contains_key(&e.tld) {
                return Err(format!("extension .{} is listed twice", e.tld));
            }
            out.order.push(e.tld.clone());
            out.by_tld.insert(e.tld.clone(), e);
        }
        Ok(out)
    }
}

fn check(e: &Extension) -> Result<(), String> {
    if e.tld.is_empty()
        || !e
            .tld
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    {
        return Err("the extension is lower-case ASCII without the dot".into());
    }
    match (e.transfer, &e.code) {
        (TransferMethod::AuthCode, None) => return Err("an auth-code transfer needs `code`".into()),
        (TransferMethod::ReleaseToTag, Some(_)) => {
            return Err("a release to a tag has no code".into());
        }
        _ => {}
    }
    if let Some(c) = &e.code {
        let distinct: std::collections::HashSet<char> = c.alphabet.chars().collect();
        if distinct.len() != c.alphabet.chars().count() || distinct.len() < 16 {
            return Err("the code's alphabet needs 16 or more distinct characters".into());
        }
        if distinct.contains(&'-') && c.group.is_some() {
            return Err("a grouped code cannot draw `-`".into());
        }
        if !(8..=64).contains(&c.length) {
            return Err("a code has 8 to 64 characters".into());
        }
        if c.group.is_some_and(|g| g == 0 || g >= c.length) {
            return Err("a code's group is shorter than the code".into());
        }
        if !(1..=60).contains(&c.validity_days) {
            return Err("a code is valid 1 to 60 days".into());
        }
    }
    let days = [
        e.lock_days_after_registration,
        e.lock_days_after_transfer,
        e.lock_days_after_owner_change,
        e.grace_days,
        e.redemption_days,
        e.transfer_wait_days,
    ];
    if days.iter().any(|d| !(0..=365).contains(d)) {
        return Err("day counts are 0 to 365".into());
    }
    if !(1..=10).contains(&e.horizon_years) {
        return Err("the renewal horizon is 1 to 10 years".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_rules_load_and_say_what_the_issue_says() {
        let x = Extensions::builtin().unwrap();
        let ch = x.get("ch").unwrap();
        assert!(ch.privacy);
        assert_eq!(ch.lock_days_after_registration, 0);
        for tld in ["com", "net", "org"] {
            let e = x.get(tld).unwrap();
            assert_eq!(e.lock_days_after_registration, 60, "{tld}");
            assert_eq!(e.lock_days_after_transfer, 60, "{tld}");
        }
        let eu = x.get("eu").unwrap().code.clone().unwrap();
        assert_eq!(eu.issuer, CodeIssuer::Registry);
        assert_eq!(eu.validity_days, 40);
        assert_eq!(
            x.get("de").unwrap().code.as_ref().unwrap().validity_days,
            30
        );
        assert_eq!(
            x.get("com").unwrap().code.as_ref().unwrap().validity_days,
            14
        );
        assert_eq!(x.get("uk").unwrap().transfer, TransferMethod::ReleaseToTag);
        assert_eq!(x.of_offer("domain-li").unwrap().tld, "li");
    }

    #[test]
    fn codes_follow_their_format() {
        let x = Extensions::builtin().unwrap();
        let eu = x.get("eu").unwrap().code.clone().unwrap();
        let code = eu.generate();
        assert_eq!(code.len(), 19);
        assert!(code.split('-').all(|g| g.len() == 4));
        let com = x.get("com").unwrap().code.clone().unwrap();
        let (a, b) = (com.generate(), com.generate());
        assert_eq!(a.chars().count(), 20);
        assert_ne!(a, b);
        assert!(a.chars().all(|c| com.alphabet.contains(c)));
    }

    #[test]
    fn bad_rules_are_refused() {
        let base = r#"{"tld":"x","offer":"o","transfer":"auth_code","code":{"issuer":"registrar","length":16,"alphabet":"ABCDEFGHJKLMNPQRSTUVWXYZ","group":null,"validity_days":14},"lock_days_after_registration":0,"lock_days_after_transfer":0,"lock_days_after_owner_change":0,"privacy":false,"horizon_years":10,"grace_days":30,"redemption_days":30,"transfer_wait_days":5}"#;
        let file = |e: &str| format!(r#"{{"version":1,"extensions":[{e}]}}"#);
        assert!(Extensions::from_json(&file(base)).is_ok());
        for (from, to) in [
            (r#""length":16"#, r#""length":4"#),
            (r#""validity_days":14"#, r#""validity_days":0"#),
            (
                r#""alphabet":"ABCDEFGHJKLMNPQRSTUVWXYZ""#,
                r#""alphabet":"AB""#,
            ),
            (
                r#""transfer":"auth_code""#,
                r#""transfer":"release_to_tag""#,
            ),
            (r#""horizon_years":10"#, r#""horizon_years":11"#),
            (r#""tld":"x""#, r#""tld":".X""#),
        ] {
            let bad = base.replace(from, to);
            assert!(Extensions::from_json(&file(&bad)).is_err(), "{to}");
        }
    }
}
