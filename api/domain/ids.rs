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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_ids_have_a_shape() {
        let id = crate::db::new_id("ses");
        assert_eq!(path_id(&id, "ses", "session").unwrap(), id);
        assert!(path_id("ses_123", "ses", "session").is_err());
        assert!(path_id(&id.replace("ses", "usr"), "ses", "session").is_err());
        assert!(path_id("ses_\0", "ses", "session").is_err());
    }
}
