//! The account events, named: each builds its details in one place, so a kind always carries the
//! same facts. The JSON they write is the one written before they existed (the hash chain covers
//! it).

use serde_json::json;

use super::Event;
use crate::domain::account_states::SessionEndReason;
use crate::domain::events::ActivityKind;
use crate::domain::ids::TokenId;
use crate::models::api_tokens::ApiToken;

/// How an account came to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignedUpVia {
    /// Through `POST /v1/users`.
    Form,
    /// Through `POST /v1/users` again, replacing an earlier attempt never verified.
    FormAgain,
    /// By the operator's `users create`.
    Cli,
}

impl<'a> Event<'a> {
    pub fn signed_up(user_id: &'a str, via: SignedUpVia) -> Self {
        let event = Event::new(ActivityKind::UserSignedUp, user_id);
        match via {
            SignedUpVia::Form => event,
            SignedUpVia::FormAgain => event.details(json!({"replaces_earlier_attempt": true})),
            SignedUpVia::Cli => event.details(json!({"via": "cli"})),
        }
    }

    pub fn session_ended(user_id: &'a str, session_id: &str, reason: SessionEndReason) -> Self {
        Event::new(ActivityKind::SessionEnded, user_id)
            .details(json!({"session_id": session_id, "reason": reason}))
    }

    /// The caller's other sessions ended (`kept`: the caller's own, if it has one).
    pub fn sessions_ended_others(user_id: &'a str, count: usize, kept: Option<&str>) -> Self {
        Event::new(ActivityKind::SessionsEndedOthers, user_id)
            .details(json!({"count": count, "kept_session_id": kept}))
    }

    /// `scopes`: as the request listed them (the record keeps that order).
    pub fn token_created<S: serde::Serialize>(
        user_id: &'a str,
        token: &ApiToken,
        scopes: S,
    ) -> Self {
        Event::new(ActivityKind::TokenCreated, user_id).details(json!({
            "token_id": token.id,
            "kind": token.kind,
            "scopes": scopes,
            "expires_at": token.expires_at.map(|t| t.and_utc()),
        }))
    }

    pub fn token_revoked(user_id: &'a str, token_id: &TokenId) -> Self {
        Event::new(ActivityKind::TokenRevoked, user_id).details(json!({"token_id": token_id}))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The details are part of the hash chain: these are the bytes written before the
    // constructors existed.
    #[test]
    fn named_events_write_the_details_written_before() {
        let details = |e: Event<'_>| e.details.to_string();
        assert_eq!(
            details(Event::session_ended(
                "usr_a",
                "ses_b",
                SessionEndReason::Logout
            )),
            r#"{"session_id":"ses_b","reason":"logout"}"#
        );
        assert_eq!(
            details(Event::signed_up("usr_a", SignedUpVia::Cli)),
            r#"{"via":"cli"}"#
        );
        assert_eq!(details(Event::signed_up("usr_a", SignedUpVia::Form)), "{}");
        assert_eq!(
            details(Event::signed_up("usr_a", SignedUpVia::FormAgain)),
            r#"{"replaces_earlier_attempt":true}"#
        );
        assert_eq!(
            details(Event::sessions_ended_others("usr_a", 2, None)),
            r#"{"count":2,"kept_session_id":null}"#
        );
        let token = TokenId::generate();
        assert_eq!(
            details(Event::token_revoked("usr_a", &token)),
            format!(r#"{{"token_id":"{token}"}}"#)
        );
    }
}
