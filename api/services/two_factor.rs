//! Two-factor authentication (TOTP, RFC 6238): enrolment, recovery codes, turning it off, the
//! second login step and re-authentication.
//!
//! Codes are SHA-1, 6 digits, 30-second steps, accepted one step early or late. Each step is
//! usable once: the last accepted step is stored, and a code of that step or an earlier one is a
//! replay (refused and recorded as `two_factor.code_replayed`). A replay is not counted as a
//! failed attempt: whoever sends it once knew a right code. Wrong codes and wrong recovery codes
//! count towards the account's lock threshold like wrong passwords.
//!
//! Enrolment needs a person in a session (tokens get 403 `session_required`); turning 2FA off
//! and regenerating recovery codes are sensitive actions (recent authentication).

use crate::domain::account_states::LinkPurpose;
use crate::error::Status;
use rand::RngCore;
use totp_rs::{Algorithm, Builder, Secret, Totp};

use crate::auth::caller::unauthenticated;
use crate::auth::{Caller, password, secrets};
use crate::config::Config;
use crate::context::Services;
use crate::db::{self, DbConnection};
use crate::domain::actor::Origin;
use crate::error::AppError;
use crate::mail;
use crate::models::users::{self, User};
use crate::models::{one_time_tokens, recovery_codes, sessions as session_rows, two_factor};
use crate::services::activity::{self, Event};
use crate::services::sessions::{self, Tokens, alert_context, invalid_credentials};

/// The name authenticator apps show above the code.
pub const ISSUER: &str = "Leman";
pub const DIGITS: u8 = 6;
pub const STEP_SECS: u64 = 30;
/// Steps of clock drift accepted either way.
pub const SKEW: u16 = 1;
pub const RECOVERY_CODE_COUNT: usize = 10;

/// A started enrolment: what an authenticator app needs.
pub struct Enrolment {
    /// The secret in base32 (RFC 4648, no padding), for typing it in.
    pub secret: String,
    pub otpauth_uri: String,
    /// `data:image/png;base64,…`
    pub qr_code: String,
}

/// The second factor sent with `POST /v1/auth/login/mfa`.
pub enum SecondFactor {
    Code(String),
    RecoveryCode(String),
}

/// What a code is worth against a secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeCheck {
    /// A right code of a step not used yet.
    Valid(i64),
    /// A right code of a step already used.
    Replayed(i64),
    Wrong,
}

pub fn session_required(detail: &str) -> AppError {
    AppError::new(Status::Forbidden, "session_required", detail)
}

fn require_session(caller: &Caller) -> Result<&str, AppError> {
    caller.session_id().ok_or_else(|| {
        session_required(
            "Two-factor authentication is set up by a person in a session, not with a token.",
        )
    })
}

fn already_enabled() -> AppError {
    AppError::conflict(
        "two_factor_already_enabled",
        "Two-factor authentication is already on; turn it off first to enrol another device.",
    )
}

fn not_enabled() -> AppError {
    AppError::conflict(
        "two_factor_not_enabled",
        "Two-factor authentication is not on.",
    )
}

fn account_gone() -> AppError {
    unauthenticated("The account no longer exists.")
}

fn build(secret: Secret, account: &str) -> Result<Totp, AppError> {
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(DIGITS)
        .with_step_duration(STEP_SECS)
        .with_skew(SKEW)
        .with_secret(secret)
        .with_account_name(account)
        .with_issuer(Some(ISSUER))
        .build()
        .map_err(|e| AppError::internal(format!("totp: {e}")))
}

/// A new random secret (160 bits) for `account` (the login email), with its URI and QR code.
pub fn new_enrolment(account: &str) -> Result<Enrolment, AppError> {
    let totp = build(Secret::generate(), account)?;
    let otpauth_uri = totp
        .to_url()
        .map_err(|e| AppError::internal(format!("totp url: {e}")))?;
    let png = totp
        .to_qr_base64()
        .map_err(|e| AppError::internal(format!("totp qr: {e}")))?;
    Ok(Enrolment {
        secret: totp.secret().to_base32(),
        otpauth_uri,
        qr_code: format!("data:image/png;base64,{png}"),
    })
}

/// Checks `code` against the base32 `secret` at `unix_secs`, one step of drift either way;
/// `last_step` is the last step already used.
pub fn check_code(
    secret: &str,
    code: &str,
    last_step: Option<i64>,
    unix_secs: u64,
) -> Result<CodeCheck, AppError> {
    let secret = Secret::try_from_base32(secret)
        .map_err(|e| AppError::internal(format!("stored totp secret: {e}")))?;
    let totp = build(secret, "check")?;
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    Ok(match totp.check(&code, unix_secs) {
        None => CodeCheck::Wrong,
        Some(step) => {
            let step = i64::try_from(step).unwrap_or(i64::MAX);
            if last_step.is_some_and(|last| step <= last) {
                CodeCheck::Replayed(step)
            } else {
                CodeCheck::Valid(step)
            }
        }
    })
}

fn unix_now() -> u64 {
    u64::try_from(chrono::Utc::now().timestamp()).unwrap_or(0)
}

const RECOVERY_ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";

/// Ten new recovery codes (120 random bits each, shown as `xxxx-xxxx-xxxx-xxxx-xxxx-xxxx`) and
/// their hashes. 120 bits: above the 112 under which ASVS 6.5.2 asks a salted password hash, so
/// SHA-256 is enough and a code is found by its hash in one indexed lookup.
pub fn new_recovery_codes() -> (Vec<String>, Vec<String>) {
    let mut rng = rand::rng();
    (0..RECOVERY_CODE_COUNT)
        .map(|_| {
            let mut bytes = [0u8; 15];
            rng.fill_bytes(&mut bytes);
            // 120 bits = 24 base32 characters of 5 bits each.
            let bits = bytes
                .iter()
                .fold(0u128, |acc, b| (acc << 8) | u128::from(*b));
            let plain: String = (0..24)
                .rev()
                .map(|i| RECOVERY_ALPHABET[((bits >> (i * 5)) & 31) as usize] as char)
                .collect();
            let shown = plain
                .as_bytes()
                .chunks(4)
                .map(|c| String::from_utf8_lossy(c).into_owned())
                .collect::<Vec<_>>()
                .join("-");
            (shown, secrets::hash(&plain))
        })
        .unzip()
}

/// How a typed recovery code is stored: without dashes or spaces, in lower case.
pub fn hash_recovery_code(raw: &str) -> String {
    let plain: String = raw
        .chars()
        .filter(|c| *c != '-' && !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect();
    secrets::hash(&plain)
}

/// Starts (or restarts) enrolment: a new pending secret; 2FA stays off until confirmed.
pub async fn start_enrolment(
    ctx: &Services,
    meta: Origin,
    caller: Caller,
) -> Result<Enrolment, AppError> {
    require_session(&caller)?;
    // Someone holding a stolen session must not bind the account to their own device.
    caller.require_recent_auth()?;
    if caller.two_factor_enabled() {
        return Err(already_enabled());
    }
    let email = caller.account.email.clone();
    let enrolment = tokio::task::spawn_blocking(move || new_enrolment(&email))
        .await
        .map_err(|e| AppError::internal(format!("totp task: {e}")))??;
    let secret = enrolment.secret.clone();
    db::run(&ctx.pool, move |conn| {
        db::write(conn, |c| {
            if two_factor::set_pending(c, &caller.user_id, &secret, db::now())? != 1 {
                return Err(already_enabled());
            }
            activity::record(
                c,
                &meta,
                Event::two_factor_enrolment_started(&caller.user_id),
            )?;
            Ok(())
        })
    })
    .await?;
    Ok(enrolment)
}

/// Turns 2FA on with a code from the pending secret; returns the recovery codes (shown once).
pub async fn confirm_enrolment(
    ctx: &Services,
    meta: Origin,
    caller: Caller,
    code: String,
) -> Result<Vec<String>, AppError> {
    require_session(&caller)?;
    let (shown, hashes) = new_recovery_codes();
    let config = ctx.config.clone();
    db::run(&ctx.pool, move |conn| {
        db::write(conn, |c| {
            let user = users::find(c, &caller.user_id)?.ok_or_else(account_gone)?;
            if user.two_factor_enabled() {
                return Err(already_enabled());
            }
            let Some(secret) = user.totp_secret.clone() else {
                return Err(AppError::conflict(
                    "two_factor_enrolment_not_started",
                    "No enrolment is pending: POST /v1/me/two-factor/totp first.",
                ));
            };
            let CodeCheck::Valid(step) = check_code(&secret, &code, None, unix_now())? else {
                return Err(AppError::unprocessable(
                    "invalid_code",
                    "The code is wrong or expired: check the device's clock and type the code it shows now.",
                ));
            };
            let now = db::now();
            if two_factor::enable(c, &user.id, &secret, step, now)? != 1 {
                return Err(already_enabled());
            }
            recovery_codes::replace_all(c, &user.id, &hashes, now)?;
            mail::send(
                c,
                &config,
                "two_factor_enabled",
                &user.language,
                &user.email,
                alert_context(&user, &meta),
            )?;
            activity::record(
                c,
                &meta,
                Event::two_factor_enabled(&user.id),
            )?;
            Ok(())
        })
    })
    .await?;
    Ok(shown)
}

/// Replaces every recovery code by ten new ones (a sensitive action).
pub async fn regenerate_recovery_codes(
    ctx: &Services,
    meta: Origin,
    caller: Caller,
) -> Result<Vec<String>, AppError> {
    caller.require_recent_auth()?;
    let (shown, hashes) = new_recovery_codes();
    db::run(&ctx.pool, move |conn| {
        db::write(conn, |c| {
            let user = users::find(c, &caller.user_id)?.ok_or_else(account_gone)?;
            if !user.two_factor_enabled() {
                return Err(not_enabled());
            }
            recovery_codes::replace_all(c, &user.id, &hashes, db::now())?;
            activity::record(
                c,
                &meta,
                Event::two_factor_recovery_codes_regenerated(&user.id, RECOVERY_CODE_COUNT),
            )?;
            Ok(())
        })
    })
    .await?;
    Ok(shown)
}

/// Turns 2FA off: secret, used step and recovery codes go (a sensitive action).
pub async fn disable(ctx: &Services, meta: Origin, caller: Caller) -> Result<(), AppError> {
    caller.require_recent_auth()?;
    let config = ctx.config.clone();
    db::run(&ctx.pool, move |conn| {
        db::write(conn, |c| {
            let user = users::find(c, &caller.user_id)?.ok_or_else(account_gone)?;
            if !user.two_factor_enabled() {
                return Err(not_enabled());
            }
            let requiring = crate::models::organizations::requiring_two_factor_for(c, &user.id)?;
            if !requiring.is_empty() {
                return Err(AppError::conflict(
                    "two_factor_required_by_organization",
                    format!(
                        "An organisation you belong to requires two-factor authentication ({}): leave it first to turn 2FA off.",
                        requiring.join(", ")
                    ),
                ));
            }
            two_factor::disable(c, &user.id, db::now())?;
            recovery_codes::delete_all(c, &user.id)?;
            mail::send(
                c,
                &config,
                "two_factor_disabled",
                &user.language,
                &user.email,
                alert_context(&user, &meta),
            )?;
            activity::record(
                c,
                &meta,
                Event::two_factor_disabled(&user.id),
            )?;
            Ok(())
        })
    })
    .await
}

/// The outcome of a second factor checked inside a transaction.
enum Verdict {
    Accepted,
    Wrong,
    Replayed(i64),
}

/// Checks a TOTP code of a user with 2FA on and, when right, marks its step used.
fn verify_code(conn: &mut DbConnection, user: &User, code: &str) -> Result<Verdict, AppError> {
    let Some(secret) = user.totp_secret.as_deref() else {
        return Ok(Verdict::Wrong);
    };
    Ok(
        match check_code(secret, code, user.totp_last_step, unix_now())? {
            CodeCheck::Valid(step) if two_factor::use_step(conn, &user.id, step)? => {
                Verdict::Accepted
            }
            CodeCheck::Valid(step) | CodeCheck::Replayed(step) => Verdict::Replayed(step),
            CodeCheck::Wrong => Verdict::Wrong,
        },
    )
}

/// Records a refused second factor: a wrong one counts as a failed attempt (and may lock the
/// account), a replay is recorded as such.
fn record_refusal(
    conn: &mut DbConnection,
    config: &Config,
    meta: &Origin,
    user: &User,
    verdict: &Verdict,
    during: &str,
) -> Result<(), AppError> {
    match verdict {
        Verdict::Accepted => Ok(()),
        Verdict::Wrong => sessions::record_failure(conn, config, meta, user, "two_factor"),
        Verdict::Replayed(step) => Ok(activity::record(
            conn,
            meta,
            Event::two_factor_code_replayed(&user.id, during, *step),
        )?),
    }
}

fn record_locked(conn: &mut DbConnection, meta: &Origin, user: &User) -> Result<(), AppError> {
    Ok(activity::record(
        conn,
        meta,
        Event::login_failed_locked(&user.id),
    )?)
}

/// The second login step: the `mfa_token` of the password step plus a TOTP code or a recovery
/// code. Every refusal is the same 401 `invalid_credentials`.
pub async fn complete_login(
    ctx: &Services,
    meta: Origin,
    mfa_token: String,
    factor: SecondFactor,
) -> Result<Tokens, AppError> {
    let lookup = mfa_token.clone();
    let found = db::run(&ctx.pool, move |conn| {
        let Some(pending) =
            crate::models::passwords::find_usable_token(conn, &lookup, LinkPurpose::MfaLogin)?
        else {
            return Ok(None);
        };
        Ok(users::find(conn, &pending.user_id)?)
    })
    .await?
    .ok_or_else(invalid_credentials)?;
    ctx.limits.account(&found.email).await?;
    let config = ctx.config.clone();
    let tx_meta = meta.clone();
    let outcome = db::run(&ctx.pool, move |conn| {
        db::write(conn, |c| -> Result<Result<User, AppError>, AppError> {
            let Some(user) = users::find(c, &found.id)? else {
                return Ok(Err(invalid_credentials()));
            };
            // The password step no longer stands once 2FA went off (a password change withdraws
            // the token itself).
            if !user.two_factor_enabled() {
                return Ok(Err(invalid_credentials()));
            }
            if user.locked_at.is_some() {
                record_locked(c, &tx_meta, &user)?;
                return Ok(Err(invalid_credentials()));
            }
            let verdict = match &factor {
                SecondFactor::Code(code) => verify_code(c, &user, code)?,
                SecondFactor::RecoveryCode(raw) => {
                    if recovery_codes::consume(c, &user.id, &hash_recovery_code(raw), db::now())? {
                        Verdict::Accepted
                    } else {
                        Verdict::Wrong
                    }
                }
            };
            if let Verdict::Accepted = verdict {
                // Once: a concurrent or later use of the same token finds it used.
                if one_time_tokens::consume(c, &mfa_token, LinkPurpose::MfaLogin)?.is_none() {
                    return Ok(Err(invalid_credentials()));
                }
                return Ok(Ok(user));
            }
            record_refusal(c, &config, &tx_meta, &user, &verdict, "login")?;
            Ok(Err(invalid_credentials()))
        })
    })
    .await?;
    let user = outcome?;
    sessions::start_session(ctx, meta, user, vec!["pwd".into(), "otp".into()]).await
}

/// Confirms the person in this session again (password, and the code when 2FA is on): sensitive
/// actions are allowed for the next 5 minutes.
pub async fn reauthenticate(
    ctx: &Services,
    meta: Origin,
    caller: Caller,
    password: String,
    code: Option<String>,
) -> Result<(), AppError> {
    let sid = caller
        .session_id()
        .ok_or_else(|| {
            session_required(
                "Tokens cannot re-authenticate; sensitive actions need a person in a session.",
            )
        })?
        .to_string();
    let code = code.filter(|c| !c.trim().is_empty());
    if caller.two_factor_enabled() && code.is_none() {
        return Err(AppError::field(
            "/code",
            "required",
            "two-factor authentication is on: send the code your authenticator app shows",
        ));
    }
    ctx.limits.account(&caller.account.email).await?;
    let id = caller.user_id.clone();
    let stored = db::run(&ctx.pool, move |conn| Ok(users::find(conn, &id)?))
        .await?
        .ok_or_else(account_gone)?
        .password_hash;
    let correct = password::verify(password, Some(stored)).await?;
    let config = ctx.config.clone();
    // The inner error is answered after the commit: failed attempts must be recorded.
    db::run(&ctx.pool, move |conn| {
        db::write(conn, |c| -> Result<Result<(), AppError>, AppError> {
            let user = users::find(c, &caller.user_id)?.ok_or_else(account_gone)?;
            if user.locked_at.is_some() {
                record_locked(c, &meta, &user)?;
                return Ok(Err(invalid_credentials()));
            }
            if !correct {
                sessions::record_failure(c, &config, &meta, &user, "password")?;
                return Ok(Err(invalid_credentials()));
            }
            let mut amr = vec!["pwd"];
            if user.two_factor_enabled() {
                let verdict = verify_code(c, &user, code.as_deref().unwrap_or(""))?;
                if !matches!(verdict, Verdict::Accepted) {
                    record_refusal(c, &config, &meta, &user, &verdict, "reauthenticate")?;
                    return Ok(Err(invalid_credentials()));
                }
                amr.push("otp");
            }
            session_rows::set_reauthenticated(c, &sid, db::now())?;
            two_factor::reset_failures(c, &user.id)?;
            activity::record(
                c,
                &meta,
                Event::session_reauthenticated(&user.id, &sid, &amr),
            )?;
            Ok(Ok(()))
        })
    })
    .await?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_drift_one_step_and_each_step_counts_once() {
        let enrolment = new_enrolment("zoe@example.ch").unwrap();
        assert!(
            enrolment
                .otpauth_uri
                .starts_with("otpauth://totp/Leman:zoe%40example.ch?")
        );
        assert!(enrolment.qr_code.starts_with("data:image/png;base64,"));
        let totp = build(
            Secret::try_from_base32(&enrolment.secret).unwrap(),
            "zoe@example.ch",
        )
        .unwrap();
        let now = 1_800_000_015u64;
        let step = (now / STEP_SECS) as i64;
        let code_at = |offset: i64| {
            totp.generate((now as i64 + offset * STEP_SECS as i64) as u64)
                .to_string()
        };
        let check = |code: &str, last| check_code(&enrolment.secret, code, last, now).unwrap();
        assert_eq!(check(&code_at(0), None), CodeCheck::Valid(step));
        assert_eq!(check(&code_at(-1), None), CodeCheck::Valid(step - 1));
        assert_eq!(check(&code_at(1), None), CodeCheck::Valid(step + 1));
        assert_eq!(check(&code_at(2), None), CodeCheck::Wrong);
        assert_eq!(check(&code_at(-2), None), CodeCheck::Wrong);
        assert_eq!(check(&code_at(0), Some(step)), CodeCheck::Replayed(step));
        assert_eq!(
            check(&code_at(-1), Some(step)),
            CodeCheck::Replayed(step - 1)
        );
        assert_eq!(check(&code_at(1), Some(step)), CodeCheck::Valid(step + 1));
        assert_eq!(check("12345", None), CodeCheck::Wrong);
        assert_eq!(check("abcdef", None), CodeCheck::Wrong);
    }

    #[test]
    fn recovery_codes_are_ten_distinct_120_bit_codes_stored_hashed() {
        let (shown, hashes) = new_recovery_codes();
        assert_eq!(shown.len(), 10);
        assert_eq!(hashes.len(), 10);
        for (code, hash) in shown.iter().zip(&hashes) {
            assert_eq!(code.len(), 29, "{code}");
            assert_eq!(code.split('-').count(), 6, "{code}");
            assert!(code.split('-').all(|g| g.len() == 4), "{code}");
            assert!(
                code.bytes()
                    .all(|b| b == b'-' || RECOVERY_ALPHABET.contains(&b)),
                "{code}"
            );
            assert_eq!(&hash_recovery_code(code), hash);
            assert_eq!(
                &hash_recovery_code(&code.replace('-', "").to_uppercase()),
                hash
            );
        }
        let distinct: std::collections::HashSet<_> = shown.iter().collect();
        assert_eq!(distinct.len(), 10);
    }
}
