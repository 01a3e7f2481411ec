//! The account events, named: each builds its details in one place, so a kind always carries the
//! same facts. The JSON they write is the one written before they existed (the hash chain covers
//! it).

use serde_json::json;

use super::Event;
use crate::domain::account_states::SessionEndReason;
use crate::domain::events::ActivityKind;
use crate::domain::ids::TokenId;
use crate::models::api_tokens::ApiToken;
use crate::models::security_settings::SecuritySettings;

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

    pub fn user_email_verified(user_id: &'a str) -> Self {
        Event::new(ActivityKind::UserEmailVerified, user_id)
    }

    pub fn user_verification_resent(user_id: &'a str) -> Self {
        Event::new(ActivityKind::UserVerificationResent, user_id)
    }

    /// `amr`: how the session authenticated.
    pub fn login_succeeded<A: serde::Serialize>(
        user_id: &'a str,
        session_id: &str,
        amr: A,
    ) -> Self {
        Event::new(ActivityKind::LoginSucceeded, user_id)
            .details(json!({"session_id": session_id, "amr": amr}))
    }

    /// A wrong password or second factor (`reason`); `failed_attempts`: the count so far.
    pub fn login_failed(user_id: &'a str, reason: &str, failed_attempts: i32) -> Self {
        Event::new(ActivityKind::LoginFailed, user_id)
            .details(json!({"reason": reason, "failed_attempts": failed_attempts}))
    }

    /// A login tried on a locked account.
    pub fn login_failed_locked(user_id: &'a str) -> Self {
        Event::new(ActivityKind::LoginFailed, user_id).details(json!({"reason": "locked"}))
    }

    /// The failed login (`reason`) that locked the account.
    pub fn account_locked(user_id: &'a str, reason: &str, failed_attempts: i32) -> Self {
        Event::new(ActivityKind::AccountLocked, user_id)
            .details(json!({"reason": reason, "failed_attempts": failed_attempts}))
    }

    /// Unlocked through the mailed link.
    pub fn account_unlocked_by_link(user_id: &'a str, was_locked: bool) -> Self {
        Event::new(ActivityKind::AccountUnlocked, user_id).details(json!({
            "via": "link",
            "was_locked": was_locked,
        }))
    }

    pub fn account_unlock_requested(user_id: &'a str) -> Self {
        Event::new(ActivityKind::AccountUnlockRequested, user_id)
    }

    /// `pseudonym`: the id the deleted account's records now carry.
    pub fn account_deleted(
        pseudonym: &'a str,
        sessions_ended: usize,
        tokens_revoked: usize,
        memberships_ended: usize,
    ) -> Self {
        Event::new(ActivityKind::AccountDeleted, pseudonym).details(json!({
            "sessions_ended": sessions_ended,
            "tokens_revoked": tokens_revoked,
            "memberships_ended": memberships_ended,
        }))
    }

    /// `tokens_revoked`: how many, when the change revoked them.
    pub fn password_changed(
        user_id: &'a str,
        sessions_ended: usize,
        tokens_revoked: Option<usize>,
    ) -> Self {
        let mut details = json!({"sessions_ended": sessions_ended});
        if let Some(revoked) = tokens_revoked {
            details["tokens_revoked"] = revoked.into();
        }
        Event::new(ActivityKind::PasswordChanged, user_id).details(details)
    }

    /// `sent_to`: `login_email` or `recovery_email`.
    pub fn password_reset_requested(user_id: &'a str, sent_to: &str) -> Self {
        Event::new(ActivityKind::PasswordResetRequested, user_id)
            .details(json!({"sent_to": sent_to}))
    }

    pub fn password_reset(
        user_id: &'a str,
        sessions_ended: usize,
        unlocked: bool,
        tokens_revoked: usize,
    ) -> Self {
        Event::new(ActivityKind::PasswordReset, user_id).details(json!({
            "sessions_ended": sessions_ended,
            "unlocked": unlocked,
            "tokens_revoked": tokens_revoked,
        }))
    }

    pub fn two_factor_enrolment_started(user_id: &'a str) -> Self {
        Event::new(ActivityKind::TwoFactorEnrolmentStarted, user_id)
            .details(json!({"method": "totp"}))
    }

    pub fn two_factor_enabled(user_id: &'a str) -> Self {
        Event::new(ActivityKind::TwoFactorEnabled, user_id).details(json!({"method": "totp"}))
    }

    pub fn two_factor_disabled(user_id: &'a str) -> Self {
        Event::new(ActivityKind::TwoFactorDisabled, user_id).details(json!({"method": "totp"}))
    }

    pub fn two_factor_recovery_codes_regenerated(user_id: &'a str, count: usize) -> Self {
        Event::new(ActivityKind::TwoFactorRecoveryCodesRegenerated, user_id)
            .details(json!({"count": count}))
    }

    /// A code of a step already used (`step`), `during` a login or a re-authentication.
    pub fn two_factor_code_replayed(user_id: &'a str, during: &str, step: i64) -> Self {
        Event::new(ActivityKind::TwoFactorCodeReplayed, user_id)
            .details(json!({"during": during, "step": step}))
    }

    /// `amr`: how the session re-authenticated.
    pub fn session_reauthenticated<A: serde::Serialize>(
        user_id: &'a str,
        session_id: &str,
        amr: A,
    ) -> Self {
        Event::new(ActivityKind::SessionReauthenticated, user_id)
            .details(json!({"session_id": session_id, "amr": amr}))
    }

    pub fn login_email_change_requested(user_id: &'a str) -> Self {
        Event::new(ActivityKind::LoginEmailChangeRequested, user_id)
    }

    pub fn login_email_changed(user_id: &'a str) -> Self {
        Event::new(ActivityKind::LoginEmailChanged, user_id)
    }

    pub fn recovery_email_change_requested(user_id: &'a str) -> Self {
        Event::new(ActivityKind::RecoveryEmailChangeRequested, user_id)
    }

    pub fn recovery_email_changed(user_id: &'a str) -> Self {
        Event::new(ActivityKind::RecoveryEmailChanged, user_id)
    }

    pub fn recovery_email_confirmation_resent(user_id: &'a str) -> Self {
        Event::new(ActivityKind::RecoveryEmailConfirmationResent, user_id)
    }

    pub fn recovery_email_change_withdrawn(user_id: &'a str) -> Self {
        Event::new(ActivityKind::RecoveryEmailChangeWithdrawn, user_id)
    }

    /// `fields`: the names of the fields the edit set, in the edit's fixed order.
    pub fn profile_updated(user_id: &'a str, fields: &[&str]) -> Self {
        Event::new(ActivityKind::ProfileUpdated, user_id).details(json!({ "fields": fields }))
    }

    /// `topics`: as asked; `subscribed`, `unsubscribed`: the changes, in catalogue order.
    pub fn newsletters_updated(
        user_id: &'a str,
        topics: &[&str],
        subscribed: &[String],
        unsubscribed: &[String],
    ) -> Self {
        Event::new(ActivityKind::NewslettersUpdated, user_id).details(json!({
            "topics": topics,
            "subscribed": subscribed,
            "unsubscribed": unsubscribed,
        }))
    }

    /// Feedback sent about `service` in `language` (R53); the message itself stays out of the
    /// record (staff read it through `leman feedback export`).
    pub fn feedback_sent(
        user_id: &'a str,
        feedback_id: &str,
        service: &str,
        language: &str,
    ) -> Self {
        Event::new(ActivityKind::FeedbackSent, user_id).details(json!({
            "feedback_id": feedback_id,
            "service": service,
            "language": language,
        }))
    }

    /// `changed`: the names of the settings that differ from before.
    pub fn security_settings_updated(
        user_id: &'a str,
        changed: &[&str],
        new: &SecuritySettings,
    ) -> Self {
        Event::new(ActivityKind::SecuritySettingsUpdated, user_id).details(json!({
            "changed": changed,
            "notify_on_login_success": new.notify_on_login_success,
            "notify_on_login_failure": new.notify_on_login_failure,
            "lock_after_failed_logins": new.lock_after_failed_logins,
        }))
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
        assert_eq!(
            details(Event::password_changed("usr_a", 2, None)),
            r#"{"sessions_ended":2}"#
        );
        assert_eq!(
            details(Event::password_changed("usr_a", 2, Some(3))),
            r#"{"sessions_ended":2,"tokens_revoked":3}"#
        );
        assert_eq!(
            details(Event::login_failed("usr_a", "password", 4)),
            r#"{"reason":"password","failed_attempts":4}"#
        );
        assert_eq!(
            details(Event::login_succeeded("usr_a", "ses_b", ["pwd", "otp"])),
            r#"{"session_id":"ses_b","amr":["pwd","otp"]}"#
        );
        assert_eq!(
            details(Event::two_factor_code_replayed("usr_a", "login", 42)),
            r#"{"during":"login","step":42}"#
        );
        let settings = SecuritySettings {
            notify_on_login_success: true,
            notify_on_login_failure: false,
            lock_after_failed_logins: 5,
        };
        assert_eq!(
            details(Event::security_settings_updated(
                "usr_a",
                &["notify_on_login_failure"],
                &settings
            )),
            r#"{"changed":["notify_on_login_failure"],"notify_on_login_success":true,"notify_on_login_failure":false,"lock_after_failed_logins":5}"#
        );
        assert_eq!(
            details(Event::newsletters_updated(
                "usr_a",
                &["product_news", "offers"],
                &["offers".to_string()],
                &[]
            )),
            r#"{"topics":["product_news","offers"],"subscribed":["offers"],"unsubscribed":[]}"#
        );
        assert_eq!(
            details(Event::account_deleted("usr_p", 1, 0, 2)),
            r#"{"sessions_ended":1,"tokens_revoked":0,"memberships_ended":2}"#
        );
        assert_eq!(details(Event::login_email_changed("usr_a")), "{}");
    }
}
