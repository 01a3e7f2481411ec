use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::utc;
use crate::domain::Language;
use crate::models::users::{CallerUser, User};

/// The stored language code as the enum the requests use; the column only holds codes that
/// `domain::parse_language` accepted, so the fallback (the default, English) is never taken.
fn language(code: &str) -> Language {
    match code {
        "fr" => Language::Fr,
        "de" => Language::De,
        "it" => Language::It,
        "es" => Language::Es,
        _ => Language::En,
    }
}

/// The caller's own account.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "usr_01936d7a6b2f7c3e9d4a5b6c7d8e9f00", "email": "zoe.muller@example.ch", "email_verified": true,
    "first_name": "Zoë", "last_name": "Müller", "language": "fr", "timezone": "Europe/Zurich",
    "recovery_email": null, "recovery_email_verified": false, "pending_recovery_email": null,
    "two_factor_enabled": false, "created_at": "2026-11-26T09:00:00Z"
}))]
pub struct Me {
    pub id: String,
    /// The login ID.
    pub email: String,
    pub email_verified: bool,
    pub first_name: String,
    pub last_name: String,
    /// Mails and documents use it.
    pub language: Language,
    /// IANA time zone: mails and documents show times in it.
    pub timezone: String,
    /// Where password resets go once confirmed.
    pub recovery_email: Option<String>,
    pub recovery_email_verified: bool,
    /// A recovery address waiting for its confirmation link to be followed.
    pub pending_recovery_email: Option<String>,
    pub two_factor_enabled: bool,
    pub created_at: DateTime<Utc>,
}

impl From<&User> for Me {
    fn from(u: &User) -> Self {
        Me {
            id: u.id.clone(),
            email: u.email.clone(),
            email_verified: u.email_verified_at.is_some(),
            first_name: u.first_name.clone(),
            last_name: u.last_name.clone(),
            language: language(&u.language),
            timezone: u.timezone.clone(),
            recovery_email: u.recovery_email.clone(),
            recovery_email_verified: u.recovery_email_verified_at.is_some(),
            pending_recovery_email: u.pending_recovery_email.clone(),
            two_factor_enabled: u.two_factor_enabled(),
            created_at: utc(u.created_at),
        }
    }
}

impl From<&CallerUser> for Me {
    fn from(u: &CallerUser) -> Self {
        Me {
            id: u.id.clone(),
            email: u.email.clone(),
            email_verified: u.email_verified_at.is_some(),
            first_name: u.first_name.clone(),
            last_name: u.last_name.clone(),
            language: language(&u.language),
            timezone: u.timezone.clone(),
            recovery_email: u.recovery_email.clone(),
            recovery_email_verified: u.recovery_email_verified_at.is_some(),
            pending_recovery_email: u.pending_recovery_email.clone(),
            two_factor_enabled: u.totp_enabled_at.is_some(),
            created_at: utc(u.created_at),
        }
    }
}
