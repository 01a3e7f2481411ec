//! Scopes of personal and application tokens: read or write, per area. `write` implies `read`.
//! Sessions hold every scope; a token holds the ones chosen when it was made.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::FieldError;

/// What a token is for: `application` (a desktop or mobile app acting for the user) or
/// `personal` (scripts and integrations).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum TokenKind {
    Application,
    Personal,
}

impl TokenKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenKind::Application => "application",
            TokenKind::Personal => "personal",
        }
    }
}

/// What a token may do: read or write, per area. `<area>:write` implies `<area>:read`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
pub enum Scope {
    #[serde(rename = "account:read")]
    AccountRead,
    #[serde(rename = "account:write")]
    AccountWrite,
    #[serde(rename = "orgs:read")]
    OrgsRead,
    #[serde(rename = "orgs:write")]
    OrgsWrite,
    #[serde(rename = "billing:read")]
    BillingRead,
    #[serde(rename = "billing:write")]
    BillingWrite,
    #[serde(rename = "products:read")]
    ProductsRead,
    #[serde(rename = "products:write")]
    ProductsWrite,
    #[serde(rename = "domains:read")]
    DomainsRead,
    #[serde(rename = "domains:write")]
    DomainsWrite,
}

impl Scope {
    pub const ALL: [Scope; 10] = [
        Scope::AccountRead,
        Scope::AccountWrite,
        Scope::OrgsRead,
        Scope::OrgsWrite,
        Scope::BillingRead,
        Scope::BillingWrite,
        Scope::ProductsRead,
        Scope::ProductsWrite,
        Scope::DomainsRead,
        Scope::DomainsWrite,
    ];
}

impl Scope {
    /// The scope's name: `<area>:read` or `<area>:write`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::AccountRead => "account:read",
            Scope::AccountWrite => "account:write",
            Scope::OrgsRead => "orgs:read",
            Scope::OrgsWrite => "orgs:write",
            Scope::BillingRead => "billing:read",
            Scope::BillingWrite => "billing:write",
            Scope::ProductsRead => "products:read",
            Scope::ProductsWrite => "products:write",
            Scope::DomainsRead => "domains:read",
            Scope::DomainsWrite => "domains:write",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// The write scope of the same area, which also grants this one (None for a write scope).
    pub fn granted_by_write(self) -> Option<Self> {
        match self {
            Scope::AccountRead => Some(Scope::AccountWrite),
            Scope::OrgsRead => Some(Scope::OrgsWrite),
            Scope::BillingRead => Some(Scope::BillingWrite),
            Scope::ProductsRead => Some(Scope::ProductsWrite),
            Scope::DomainsRead => Some(Scope::DomainsWrite),
            _ => None,
        }
    }

    /// The stored list (a JSON array of names); names this build does not know are dropped.
    pub fn list_from_db(raw: &str) -> Vec<Scope> {
        let names: Vec<String> = serde_json::from_str(raw).unwrap_or_default();
        names.iter().filter_map(|n| Self::from_name(n)).collect()
    }

    /// The stored form of a list: a JSON array of names.
    pub fn list_to_db(scopes: &[Scope]) -> String {
        let names: Vec<&str> = scopes.iter().map(|s| s.as_str()).collect();
        serde_json::to_string(&names).unwrap_or_else(|_| "[]".into())
    }
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl TokenKind {
    /// The stored value; anything unknown reads as the narrower `personal`.
    pub fn from_db(raw: &str) -> Self {
        match raw {
            "application" => TokenKind::Application,
            _ => TokenKind::Personal,
        }
    }
}

/// Whether the scopes `held` allow `needed` (`<area>:write` also allows `<area>:read`).
pub fn grants(held: &[Scope], needed: Scope) -> bool {
    held.contains(&needed) || needed.granted_by_write().is_some_and(|w| held.contains(&w))
}

/// The scopes asked for a new token: at least one, each known (an unknown one is reported at
/// `<field>/<index>`); duplicates collapse; the result follows the catalogue's order.
pub fn parse_scopes(raw: &[String], field: &str) -> Result<Vec<Scope>, Vec<FieldError>> {
    if raw.is_empty() {
        return Err(vec![FieldError {
            field: field.to_string(),
            code: "required".into(),
            message: "give the token at least one scope".into(),
        }]);
    }
    let errors: Vec<FieldError> = raw
        .iter()
        .enumerate()
        .filter(|(_, s)| Scope::from_name(s).is_none())
        .map(|(i, _)| FieldError {
            field: format!("{field}/{i}"),
            code: "unknown_scope".into(),
            message: format!(
                "is not a scope; scopes: {}",
                Scope::ALL.map(Scope::as_str).join(", ")
            ),
        })
        .collect();
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Scope::ALL
        .into_iter()
        .filter(|s| raw.iter().any(|r| r == s.as_str()))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owned(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn write_implies_read_in_the_same_area_only() {
        let held = [Scope::AccountWrite, Scope::BillingRead];
        assert!(grants(&held, Scope::AccountWrite));
        assert!(grants(&held, Scope::AccountRead));
        assert!(grants(&held, Scope::BillingRead));
        assert!(!grants(&held, Scope::BillingWrite));
        assert!(!grants(&held, Scope::OrgsRead));
        assert!(!grants(&[], Scope::AccountRead));
    }

    #[test]
    fn scopes_are_checked_deduplicated_and_ordered() {
        assert_eq!(
            parse_scopes(
                &owned(&["domains:read", "account:read", "domains:read"]),
                "/scopes"
            )
            .unwrap(),
            [Scope::AccountRead, Scope::DomainsRead]
        );
        assert_eq!(
            parse_scopes(&[], "/scopes").unwrap_err()[0].field,
            "/scopes"
        );
        let errors =
            parse_scopes(&owned(&["account:read", "admin", "orgs:delete"]), "/scopes").unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["/scopes/1", "/scopes/2"]);
    }

    #[test]
    fn the_names_are_the_api_names() {
        for scope in Scope::ALL {
            let json = serde_json::to_value(scope).unwrap();
            assert_eq!(json.as_str(), Some(scope.as_str()));
            assert_eq!(Scope::from_name(scope.as_str()), Some(scope));
        }
    }
}
