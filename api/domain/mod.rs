//! Parse-don't-validate types for what users type: each `parse` returns the clean value or the
//! field error to show. `field` is the JSON pointer of the input, for the 422 body.

/// An enum kept in a text column and shown in the API by the same names: `text_enum!` gives it
/// serde names, an `enum` schema, `as_str`, `ALL`, and the conversions diesel uses through
/// `#[diesel(deserialize_as = String)]` (reading; an unknown stored value is an error) and
/// `#[diesel(serialize_as = String)]` (writing). Compare states with the enum, never a string.
macro_rules! text_enum {
    ($(#[$meta:meta])* pub enum $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:tt),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant,)+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }

            pub fn parse(raw: &str) -> Option<Self> {
                match raw {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl TryFrom<String> for $name {
            type Error = String;

            fn try_from(raw: String) -> Result<Self, String> {
                Self::parse(&raw).ok_or_else(|| {
                    format!("`{raw}` is not a {}", stringify!($name))
                })
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.as_str().to_string()
            }
        }
    };
}

pub mod account_states;
pub mod actor;
pub mod billing;
pub mod billing_states;
pub mod documents;
pub mod domain_owner_changes;
pub mod domains;
pub mod events;
pub mod ids;
pub mod money;
pub mod newsletters;
pub mod orgs;
pub mod page;
pub mod scopes;
pub mod webhooks;

use std::str::FromStr;

use crate::error::FieldError;

pub(crate) fn invalid(field: &str, code: &str, message: impl Into<String>) -> FieldError {
    FieldError {
        field: field.to_string(),
        code: code.to_string(),
        message: message.into(),
    }
}

/// An email address, trimmed and lower-cased (addresses are compared case-insensitively).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str, field: &str) -> Result<Self, FieldError> {
        let value = raw.trim().to_lowercase();
        let bad = |m: &str| invalid(field, "invalid_email", m);
        if value.is_empty() {
            return Err(bad("is required"));
        }
        if raw.chars().count() > 254 {
            return Err(bad("is longer than 254 characters"));
        }
        // The spec's `format: email` (RFC 5321) is ASCII, and so is every mail header we write;
        // one spelling per mailbox also keeps `exämple.ch` and `xn--exmple-cua.ch` from making
        // two accounts.
        if !value.is_ascii() {
            return Err(bad(
                "must be written in ASCII: give an internationalised domain in its xn-- form (e.g. xn--exmple-cua.ch)",
            ));
        }
        let (local, domain) = value
            .rsplit_once('@')
            .ok_or_else(|| bad("is not an email address"))?;
        if local.is_empty() || local.chars().count() > 64 || local.contains('@') {
            return Err(bad("is not an email address"));
        }
        if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
            return Err(bad("is not an email address"));
        }
        let local_ok = local
            .chars()
            .all(|c| c.is_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c));
        let labels: Vec<&str> = domain.split('.').collect();
        let domain_ok = labels.len() >= 2
            && labels.iter().all(|l| {
                !l.is_empty()
                    && l.chars().count() <= 63
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.chars().all(|c| c.is_alphanumeric() || c == '-')
            })
            && labels.last().is_some_and(|tld| {
                tld.chars().count() >= 2 && !tld.chars().all(|c| c.is_ascii_digit())
            });
        if !local_ok || !domain_ok {
            return Err(bad("is not an email address"));
        }
        Ok(Self(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// Password policy (OWASP ASVS 2.1): 8 to 128 characters, any characters, no composition rules,
/// never truncated; weak or common passwords refused (zxcvbn score below 3, judged also against
/// the user's own email and names).
pub fn check_password(password: &str, field: &str, user_inputs: &[&str]) -> Result<(), FieldError> {
    let length = password.chars().count();
    if length < 8 {
        return Err(invalid(
            field,
            "password_too_short",
            "must be at least 8 characters",
        ));
    }
    if length > 128 {
        return Err(invalid(
            field,
            "password_too_long",
            "must be at most 128 characters",
        ));
    }
    let inputs: Vec<&str> = user_inputs
        .iter()
        .copied()
        .chain(user_inputs.iter().flat_map(|s| s.split(['@', '.', ' '])))
        .filter(|s| s.len() > 2)
        .collect();
    let entropy = zxcvbn::zxcvbn(password, &inputs);
    if (entropy.score() as u8) < 3 {
        let hint = entropy
            .feedback()
            // zxcvbn's warnings end with a full stop; the sentence below adds its own.
            .and_then(|f| {
                f.warning()
                    .map(|w| w.to_string().trim_end_matches('.').to_string())
            })
            .unwrap_or_else(|| "it is too easy to guess".into());
        return Err(invalid(
            field,
            "password_too_weak",
            format!("is too weak: {hint}. Use a longer passphrase."),
        ));
    }
    Ok(())
}

pub const LANGUAGES: [&str; 5] = ["en", "fr", "de", "it", "es"];

/// A language of the Manager: mails and documents are written in it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    Fr,
    En,
    De,
    It,
    Es,
}

impl Language {
    pub fn code(self) -> &'static str {
        match self {
            Language::Fr => "fr",
            Language::En => "en",
            Language::De => "de",
            Language::It => "it",
            Language::Es => "es",
        }
    }
}

pub fn parse_language(raw: &str, field: &str) -> Result<String, FieldError> {
    if LANGUAGES.contains(&raw) {
        Ok(raw.to_string())
    } else {
        Err(invalid(
            field,
            "invalid_language",
            "must be one of fr, en, de, it, es",
        ))
    }
}

/// An IANA time zone name such as `Europe/Zurich`.
pub fn parse_timezone(raw: &str, field: &str) -> Result<chrono_tz::Tz, FieldError> {
    chrono_tz::Tz::from_str(raw).map_err(|_| {
        invalid(
            field,
            "invalid_timezone",
            "must be an IANA time zone name such as Europe/Zurich",
        )
    })
}

/// A person's name part: trimmed, 1 to 100 characters, no control characters.
pub fn parse_name(raw: &str, field: &str) -> Result<String, FieldError> {
    orgs::parse_text(raw, field, 100)
}

/// Collects field errors so a request reports all of them at once.
#[derive(Default)]
pub struct Checks {
    pub errors: Vec<FieldError>,
}

impl Checks {
    pub fn check<T>(&mut self, result: Result<T, FieldError>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(e) => {
                self.errors.push(e);
                None
            }
        }
    }

    pub fn finish(self) -> Result<(), crate::error::AppError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(crate::error::AppError::validation(self.errors))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(
            Email::parse("  Zoe.Muller@Example.CH ", "/email")
                .unwrap()
                .as_str(),
            "zoe.muller@example.ch"
        );
        assert!(Email::parse("zoe@xn--exmple-cua.ch", "/email").is_ok());
        assert!(Email::parse("zoe@exämple.ch", "/email").is_err());
        assert!(Email::parse("zoë@example.ch", "/email").is_err());
        for bad in [
            "",
            "plain",
            "a@b",
            "@example.ch",
            "a@.ch",
            "a..b@example.ch",
            "a b@example.ch",
            "a@exa mple.ch",
            "a@example.123",
        ] {
            assert!(Email::parse(bad, "/email").is_err(), "{bad}");
        }
        assert!(Email::parse(&format!("{}@example.ch", "a".repeat(65)), "/email").is_err());
    }

    #[test]
    fn passwords_follow_the_policy() {
        assert_eq!(
            check_password("short", "/p", &[]).unwrap_err().code,
            "password_too_short"
        );
        assert_eq!(
            check_password(&"x".repeat(129), "/p", &[])
                .unwrap_err()
                .code,
            "password_too_long"
        );
        assert_eq!(
            check_password("password123", "/p", &[]).unwrap_err().code,
            "password_too_weak"
        );
        assert_eq!(
            check_password("zoe.muller@example.ch", "/p", &["zoe.muller@example.ch"])
                .unwrap_err()
                .code,
            "password_too_weak"
        );
        assert!(check_password("correct horse battery staple", "/p", &[]).is_ok());
        // Any characters, counted as characters (not bytes), never truncated.
        assert!(check_password("日本語のパスワードはとても長い", "/p", &[]).is_ok());
        assert!(check_password(&"Lémanic-tide-".repeat(9), "/p", &[]).is_ok());
    }

    #[test]
    fn languages_and_time_zones() {
        assert!(parse_language("fr", "/l").is_ok());
        assert!(parse_language("FR", "/l").is_err());
        assert!(parse_timezone("Europe/Zurich", "/t").is_ok());
        assert!(parse_timezone("Mars/Olympus", "/t").is_err());
    }
}

#[cfg(test)]
mod text_enum_tests {
    text_enum! {
        /// A sample.
        pub enum Sample {
            /// The first.
            First = "first",
            Second = "second_one",
        }
    }

    #[test]
    fn a_text_enum_round_trips_through_its_text() {
        for s in Sample::ALL {
            assert_eq!(Sample::try_from(s.as_str().to_string()), Ok(*s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
            assert_eq!(String::from(*s), s.as_str());
        }
        assert!(Sample::try_from("third".to_string()).is_err());
    }
}

/// Property tests (issue 15, part 7): what users type never panics a parser, and what a parser
/// returns parses again to itself.
#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn any_text_as_an_email_is_an_address_or_a_field_error(raw in any::<String>()) {
            if let Err(e) = Email::parse(&raw, "/email") {
                prop_assert_eq!(e.code, "invalid_email");
                prop_assert_eq!(e.field, "/email");
            }
        }

        #[test]
        fn a_parsed_email_is_ascii_lower_case_and_parses_to_itself(
            local in "[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,70}",
            domain in "[A-Za-z0-9-]{1,20}(\\.[A-Za-z0-9-]{1,20}){0,3}",
            spaces in " {0,2}",
        ) {
            let raw = format!("{spaces}{local}@{domain}{spaces}");
            if let Ok(email) = Email::parse(&raw, "/email") {
                prop_assert!(email.as_str().is_ascii());
                prop_assert_eq!(email.as_str(), email.as_str().to_lowercase());
                prop_assert!(email.as_str().len() <= 254);
                let again = Email::parse(email.as_str(), "/email").unwrap();
                prop_assert_eq!(again, email);
            }
        }

        #[test]
        fn any_text_as_a_language_time_zone_or_name_is_a_value_or_a_field_error(raw in any::<String>()) {
            if let Ok(language) = parse_language(&raw, "/language") {
                prop_assert!(LANGUAGES.contains(&language.as_str()));
            }
            let _ = parse_timezone(&raw, "/time_zone");
            if let Ok(name) = parse_name(&raw, "/first_name") {
                prop_assert_eq!(parse_name(&name, "/first_name").unwrap(), name);
            }
        }

        #[test]
        fn every_time_zone_parses_back_from_its_name(
            tz in proptest::sample::select(chrono_tz::TZ_VARIANTS.to_vec())
        ) {
            prop_assert_eq!(parse_timezone(tz.name(), "/time_zone").unwrap(), tz);
        }
    }

    proptest! {
        // zxcvbn is by far the slowest parser here (about 0.1 s a long password in a debug
        // build): fewer and shorter cases keep the set within seconds.
        #![proptest_config(ProptestConfig::with_cases(24))]

        #[test]
        fn any_text_as_a_password_is_accepted_or_a_field_error(
            password in prop_oneof![any::<String>(), "\\PC{8,48}", Just("x".repeat(129))],
            email in "\\PC{0,60}",
        ) {
            if let Err(e) = check_password(&password, "/password", &[&email]) {
                prop_assert_eq!(e.field, "/password");
            }
        }
    }
}
