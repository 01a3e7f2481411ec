//! The organisations' two-factor requirement (R17–R21): a user without 2FA who belongs to an
//! organisation requiring it is refused everywhere (the block is global, not per organisation),
//! except where they sign in and out, read who they are, set 2FA up, or leave an organisation
//! rather than comply. Application tokens (desktop and mobile apps) are never blocked (R20).

use crate::error::Status;

use crate::error::AppError;

/// Whether the route (method and path pattern as registered, e.g. `/v1/orgs/{org_id}/leave`)
/// stays open to a member blocked by the requirement.
pub fn exempt(method: &str, pattern: &str) -> bool {
    let method = method.to_ascii_uppercase();
    pattern.starts_with("/v1/auth/")
        || pattern.starts_with("/v1/me/two-factor/")
        || (method == "GET" && (pattern == "/v1/me" || pattern == "/v1/me/organizations"))
        || (method == "POST" && pattern == "/v1/orgs/{org_id}/leave")
}

/// The refusal, telling what to do.
pub fn refusal() -> AppError {
    AppError::new(
        Status::Forbidden,
        "two_factor_required",
        "An organisation you belong to requires two-factor authentication: turn it on \
         (POST /v1/me/two-factor/totp, then /v1/me/two-factor/totp/confirm) before anything else, \
         or leave that organisation (POST /v1/orgs/{org_id}/leave).",
    )
}

#[cfg(test)]
mod tests {
    use super::exempt;

    #[test]
    fn only_enrolment_sign_in_reading_me_and_leaving_stay_open() {
        for (m, p) in [
            ("POST", "/v1/auth/logout"),
            ("POST", "/v1/auth/reauthenticate"),
            ("GET", "/v1/me"),
            ("GET", "/v1/me/organizations"),
            ("POST", "/v1/me/two-factor/totp"),
            ("POST", "/v1/me/two-factor/totp/confirm"),
            ("POST", "/v1/orgs/{org_id}/leave"),
        ] {
            assert!(exempt(m, p), "{m} {p}");
        }
        for (m, p) in [
            ("PATCH", "/v1/me"),
            ("DELETE", "/v1/me"),
            ("GET", "/v1/me/sessions"),
            ("GET", "/v1/orgs/{org_id}"),
            ("DELETE", "/v1/me/two-factor"),
            ("POST", "/v1/orgs"),
        ] {
            assert!(!exempt(m, p), "{m} {p}");
        }
    }
}
