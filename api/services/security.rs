//! Sign-in protection the user controls: login alerts, the lock threshold, and unlocking a
//! locked account through a mailed single-use link. The lock itself, its mail and the alerts
//! are in `services::sessions`.

use crate::auth::Caller;
use crate::config::Config;
use crate::context::Services;
use crate::db::{self, Pool};
use crate::domain::Email;
use crate::domain::account_states::LinkPurpose;
use crate::domain::actor::Origin;
use crate::error::AppError;
use crate::mail;
use crate::models::one_time_tokens;
use crate::models::security_settings::{self, SecuritySettings};
use crate::models::users;
use crate::services::activity::{self, Event};
use crate::services::sessions::{UNLOCK_LINK_MINUTES, alert_context};

/// The lock threshold a user may choose: at least 3 failed attempts, at most 100.
pub const LOCK_AFTER_RANGE: std::ops::RangeInclusive<i64> = 3..=100;

fn account_gone() -> AppError {
    crate::auth::caller::unauthenticated("The account no longer exists.")
}

pub async fn settings(pool: &Pool, caller: Caller) -> Result<SecuritySettings, AppError> {
    db::run(pool, move |conn| {
        security_settings::find(conn, &caller.user_id)?.ok_or_else(account_gone)
    })
    .await
}

/// What `PUT /v1/me/security-settings` asks for (every field required).
pub struct SettingsInput {
    pub notify_on_login_success: bool,
    pub notify_on_login_failure: bool,
    pub lock_after_failed_logins: i64,
}

/// Replaces the three settings; the threshold must be within 3–100.
pub async fn replace_settings(
    pool: &Pool,
    meta: Origin,
    caller: Caller,
    input: SettingsInput,
) -> Result<SecuritySettings, AppError> {
    let lock_after = i32::try_from(input.lock_after_failed_logins)
        .ok()
        .filter(|n| LOCK_AFTER_RANGE.contains(&i64::from(*n)))
        .ok_or_else(|| {
            AppError::field(
                "/lock_after_failed_logins",
                "out_of_range",
                format!(
                    "must be between {} and {}",
                    LOCK_AFTER_RANGE.start(),
                    LOCK_AFTER_RANGE.end()
                ),
            )
        })?;
    let new = SecuritySettings {
        notify_on_login_success: input.notify_on_login_success,
        notify_on_login_failure: input.notify_on_login_failure,
        lock_after_failed_logins: lock_after,
    };
    db::run(pool, move |conn| {
        db::write(conn, |c| {
            let old = security_settings::find(c, &caller.user_id)?.ok_or_else(account_gone)?;
            // What an intruder holding a session or a token would want (fewer alerts, more
            // guesses before the lock) needs a fresh proof that it is the person; tightening
            // does not.
            let weakens = (old.notify_on_login_success && !new.notify_on_login_success)
                || (old.notify_on_login_failure && !new.notify_on_login_failure)
                || new.lock_after_failed_logins > old.lock_after_failed_logins;
            if weakens {
                caller.require_recent_auth()?;
            }
            security_settings::replace(c, &caller.user_id, &new, db::now())?;
            let changed: Vec<&str> = [
                (
                    "notify_on_login_success",
                    old.notify_on_login_success != new.notify_on_login_success,
                ),
                (
                    "notify_on_login_failure",
                    old.notify_on_login_failure != new.notify_on_login_failure,
                ),
                (
                    "lock_after_failed_logins",
                    old.lock_after_failed_logins != new.lock_after_failed_logins,
                ),
            ]
            .into_iter()
            .filter(|(_, differs)| *differs)
            .map(|(name, _)| name)
            .collect();
            activity::record(
                c,
                &meta,
                Event::security_settings_updated(&caller.user_id, &changed, &new),
            )?;
            Ok(new)
        })
    })
    .await
}

/// Unlocks the account of a mailed unlock link (single use, valid 1 hour); the failure count
/// starts again.
pub async fn unlock(pool: &Pool, meta: Origin, token: String) -> Result<(), AppError> {
    db::run(pool, move |conn| {
        db::write(conn, |c| {
            let (_, user) = crate::services::accounts::redeem_link(c, &token, LinkPurpose::Unlock)?;
            users::unlock(c, &user.id)?;
            activity::record(
                c,
                &meta,
                Event::account_unlocked_by_link(&user.id, user.locked_at.is_some()),
            )?;
            Ok(())
        })
    })
    .await
}

/// Mails a fresh unlock link when `email` is the login of a locked account (the previous link
/// stops working). Any other address, or no address at all, changes nothing; the caller answers
/// the same either way.
pub async fn request_unlock(ctx: &Services, meta: Origin, email: String) -> Result<(), AppError> {
    let parsed = Email::parse(&email, "/email").ok();
    let key = parsed
        .as_ref()
        .map(|e| e.as_str().to_string())
        .unwrap_or_else(|| email.trim().to_lowercase());
    // Its own bucket per address, so nobody floods a mailbox with links.
    ctx.limits.account(&format!("unlock:{key}")).await?;
    let Some(email) = parsed else {
        return Ok(());
    };
    let config: std::sync::Arc<Config> = ctx.config.clone();
    db::run(&ctx.pool, move |conn| {
        db::write(conn, |c| {
            let Some(user) = crate::services::accounts::find_locked_by_email(c, email.as_str())?
                .filter(|u| u.locked_at.is_some())
            else {
                return Ok(());
            };
            if !crate::services::accounts::stranger_mail_allowed(c, &user.email, "unlock_link")? {
                return Ok(());
            }
            let token = one_time_tokens::issue(
                c,
                &user.id,
                LinkPurpose::Unlock,
                chrono::Duration::minutes(UNLOCK_LINK_MINUTES),
                None,
            )?;
            let mut context = alert_context(&user, &meta);
            context["link"] = config.app_link("/unlock", &token).into();
            context["minutes"] = UNLOCK_LINK_MINUTES.into();
            mail::send(
                c,
                &config,
                "unlock_link",
                &user.language,
                &user.email,
                context,
            )?;
            activity::record(c, &meta, Event::account_unlock_requested(&user.id))?;
            Ok(())
        })
    })
    .await
}
