use serde::Serialize;
use utoipa::ToSchema;

use crate::models::security_settings::SecuritySettings;

/// How the account is protected at sign-in: which attempts are mailed, and after how many failed
/// attempts in a row it locks.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"notify_on_login_success": true, "notify_on_login_failure": true, "lock_after_failed_logins": 10}))]
pub struct SecuritySettingsView {
    /// Mail an alert after every successful sign-in.
    pub notify_on_login_success: bool,
    /// Mail an alert after every failed sign-in attempt.
    pub notify_on_login_failure: bool,
    /// Failed attempts in a row (wrong passwords or 2FA codes) after which the account locks.
    #[schema(minimum = 3, maximum = 100)]
    pub lock_after_failed_logins: i32,
}

impl From<SecuritySettings> for SecuritySettingsView {
    fn from(s: SecuritySettings) -> Self {
        SecuritySettingsView {
            notify_on_login_success: s.notify_on_login_success,
            notify_on_login_failure: s.notify_on_login_failure,
            lock_after_failed_logins: s.lock_after_failed_logins,
        }
    }
}
