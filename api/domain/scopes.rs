//! Scopes of personal and application tokens: read or write, per area. `write` implies `read`.
//! Sessions hold every scope; a token holds the ones chosen when it was made.

use crate::error::FieldError;

/// The areas a token can be given access to.
pub const AREAS: [&str; 5] = ["account", "orgs", "billing", "products", "domains"];

/// Every scope, in catalogue order: `<area>:read` then `<area>:write`.
pub const SCOPES: [&str; 10] = [
    "account:read",
    "account:write",
    "orgs:read",
    "orgs:write",
    "billing:read",
    "billing:write",
    "products:read",
    "products:write",
    "domains:read",
    "domains:write",
];

/// Whether the scopes `held` allow `needed` (`<area>:write` also allows `<area>:read`).
pub fn grants(held: &[String], needed: &str) -> bool {
    held.iter().any(|h| h == needed)
        || needed
            .strip_suffix(":read")
            .is_some_and(|area| held.iter().any(|h| *h == format!("{area}:write")))
}

/// The scopes asked for a new token: at least one, each known (an unknown one is reported at
/// `<field>/<index>`); duplicates collapse; the result follows the catalogue's order.
pub fn parse_scopes(raw: &[String], field: &str) -> Result<Vec<String>, Vec<FieldError>> {
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
        .filter(|(_, s)| !SCOPES.contains(&s.as_str()))
        .map(|(i, _)| FieldError {
            field: format!("{field}/{i}"),
            code: "unknown_scope".into(),
            message: format!("is not a scope; scopes: {}", SCOPES.join(", ")),
        })
        .collect();
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(SCOPES
        .iter()
        .filter(|s| raw.iter().any(|r| r == *s))
        .map(|s| s.to_string())
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
        let held = owned(&["account:write", "billing:read"]);
        assert!(grants(&held, "account:write"));
        assert!(grants(&held, "account:read"));
        assert!(grants(&held, "billing:read"));
        assert!(!grants(&held, "billing:write"));
        assert!(!grants(&held, "orgs:read"));
        assert!(!grants(&[], "account:read"));
    }

    #[test]
    fn scopes_are_checked_deduplicated_and_ordered() {
        assert_eq!(
            parse_scopes(
                &owned(&["domains:read", "account:read", "domains:read"]),
                "/scopes"
            )
            .unwrap(),
            ["account:read", "domains:read"]
        );
        assert_eq!(
            parse_scopes(&[], "/scopes").unwrap_err()[0].field,
            "/scopes"
        );
        let errors =
            parse_scopes(&owned(&["account:read", "admin", "orgs:delete"]), "/scopes").unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["/scopes/1", "/scopes/2"]);
        for area in AREAS {
            for access in ["read", "write"] {
                assert!(SCOPES.contains(&format!("{area}:{access}").as_str()));
            }
        }
    }
}
