//! Passwords: changing one's own (ends the other sessions; on request revokes every token too),
//! and the forgotten-password reset (R5: the link goes to the verified recovery address, else the
//! login address; following it ends every session, revokes every personal and application token
//! and lifts a lock). The second factor and its recovery codes stay: the link only proves control
//! of a mailbox, and the second factor is what still protects the account when that mailbox is
//! someone else's; the mail about the change points to its settings.

use crate::error::Status;

use crate::auth::password;
use crate::config::Config;
use crate::context::Services;
use crate::db::{self, DbConnection, Pool};
use crate::domain::account_states::LinkPurpose;
use crate::domain::actor::Origin;
use crate::domain::{self, Checks, Email};
use crate::error::{AppError, FieldError};
use crate::mail;
use crate::models::api_tokens;
use crate::models::one_time_tokens;
use crate::models::passwords;
use crate::models::sessions as session_rows;
use crate::models::users::{self, User};
use crate::services::activity::{self, Event};
use crate::services::sessions;

/// How long a reset link works.
pub const RESET_LINK_MINUTES: i64 = 60;

/// Tokens have no password and no session: what changes credentials needs a person signed in.
pub fn session_required() -> AppError {
    AppError::new(
        Status::Forbidden,
        "session_required",
        "Only a person signed in with a session can do this; tokens cannot.",
    )
}

/// A new password ends what the old one started: sign-ins waiting for their second factor, and
/// login or recovery address changes awaiting confirmation (whoever knew the old password may
/// have asked for them, to take the account back after a reset).
fn withdraw_pending(
    c: &mut crate::db::DbConnection,
    user_id: &str,
    now: chrono::NaiveDateTime,
) -> diesel::QueryResult<()> {
    for purpose in [
        LinkPurpose::MfaLogin,
        LinkPurpose::ConfirmLoginEmail,
        LinkPurpose::ConfirmRecoveryEmail,
    ] {
        one_time_tokens::revoke(c, user_id, purpose)?;
    }
    crate::models::emails::set_pending_recovery_email(c, user_id, None, now)?;
    Ok(())
}

pub fn account_locked() -> AppError {
    AppError::new(
        Status::Forbidden,
        "account_locked",
        "The account is locked after too many failed attempts: unlock it with the link we mailed, or reset the password.",
    )
}

pub fn wrong_password(field: &str) -> FieldError {
    FieldError {
        field: field.to_string(),
        code: "wrong_password".to_string(),
        message: "is not the account's password".to_string(),
    }
}

/// The caller's account, as stored now.
pub async fn load_user(pool: &Pool, user_id: &str) -> Result<User, AppError> {
    let id = user_id.to_string();
    db::run(pool, move |conn| Ok(users::find(conn, &id)?))
        .await?
        .ok_or_else(|| crate::auth::caller::unauthenticated("The account no longer exists."))
}

/// What the password policy judges a new password against: the user's own address and names.
fn check_new_password(password: &str, field: &str, user: &User) -> Result<(), FieldError> {
    domain::check_password(
        password,
        field,
        &[&user.email, &user.first_name, &user.last_name],
    )
}

/// Checks the account's password before a change of credentials. A locked account is refused
/// (otherwise a session could go on guessing past the lock); a wrong password counts as a failed
/// attempt, committed with its activity row (and maybe the lock and its mail) although the
/// request itself then fails. True when right.
pub async fn confirm_password(
    ctx: &Services,
    meta: &Origin,
    user: &User,
    password: String,
) -> Result<bool, AppError> {
    if user.locked_at.is_some() {
        return Err(account_locked());
    }
    // The same per-account budget as sign-ins: a session cannot guess faster than a login.
    ctx.limits.account(&user.email).await?;
    let right = password::verify(password, Some(user.password_hash.clone())).await?;
    if !right {
        let (config, meta, user) = (ctx.config.clone(), meta.clone(), user.clone());
        db::run(&ctx.pool, move |conn| {
            db::write(conn, |c| {
                sessions::record_failure(c, &config, &meta, &user, "password_confirmation")
            })
        })
        .await?;
    }
    Ok(right)
}

/// Revokes every personal and application token of the account; returns how the mail names those
/// that still worked ("name (lmn_abcd…)").
fn revoke_tokens(
    conn: &mut DbConnection,
    user_id: &str,
    now: chrono::NaiveDateTime,
) -> Result<Vec<String>, AppError> {
    let working = api_tokens::list_working(conn, user_id)?;
    api_tokens::revoke_all_for_user(conn, user_id, now)?;
    Ok(working
        .iter()
        .map(|t| format!("{} ({}…)", t.name, t.prefix))
        .collect())
}

/// Tells the account's login address that its password changed, with when, where from and how;
/// which tokens were revoked (`None`: none were, they still work), whether every session ended
/// (a reset) or only the others (a change), where resets go, and where to review the second
/// factor.
fn mail_password_changed(
    conn: &mut DbConnection,
    config: &Config,
    meta: &Origin,
    user: &User,
    revoked: Option<&[String]>,
    all_sessions_ended: bool,
) -> Result<(), AppError> {
    let mut ctx = sessions::alert_context(user, meta);
    ctx["all_sessions_ended"] = all_sessions_ended.into();
    // Resets go to the recovery address (R5): one an intruder set would let them back in, so the
    // owner is shown it with every password change.
    ctx["recovery_email"] = user
        .recovery_email
        .clone()
        .filter(|_| user.recovery_email_verified_at.is_some())
        .into();
    ctx["recovery_link"] = format!("{}/settings/recovery-email", config.app_url).into();
    ctx["reset_link"] = format!("{}/forgot-password", config.app_url).into();
    ctx["tokens_revoked"] = revoked.is_some().into();
    ctx["revoked_tokens"] = revoked.map(|r| r.join(", ")).unwrap_or_default().into();
    ctx["tokens_link"] = format!("{}/settings/tokens", config.app_url).into();
    ctx["two_factor_on"] = user.two_factor_enabled().into();
    ctx["two_factor_link"] = format!("{}/settings/two-factor", config.app_url).into();
    mail::send(
        conn,
        config,
        "password_changed",
        &user.language,
        &user.email,
        ctx,
    )?;
    Ok(())
}

/// `PUT /v1/me/password`: the current password, then a new one that passes the policy and differs
/// from it. The caller's other sessions end; pending reset links stop working; with
/// `revoke_tokens`, every personal and application token of the account is revoked too.
pub async fn change(
    ctx: &Services,
    meta: Origin,
    caller: crate::auth::Caller,
    current_password: String,
    new_password: String,
    revoke_tokens: bool,
) -> Result<(), AppError> {
    let sid = caller
        .session_id()
        .ok_or_else(session_required)?
        .to_string();
    let user = load_user(&ctx.pool, &caller.user_id).await?;
    let mut checks = Checks::default();
    checks.check(check_new_password(&new_password, "/new_password", &user));
    if !confirm_password(ctx, &meta, &user, current_password).await? {
        checks.errors.insert(0, wrong_password("/current_password"));
    }
    checks.finish()?;
    if password::verify(new_password.clone(), Some(user.password_hash.clone())).await? {
        return Err(AppError::field(
            "/new_password",
            "same_as_current",
            "must differ from the current password",
        ));
    }
    let hash = password::hash(new_password).await?;
    let config = ctx.config.clone();
    db::run(&ctx.pool, move |conn| {
        db::write(conn, |c| {
            let now = db::now();
            passwords::set_password(c, &user.id, &hash, now)?;
            let ended = session_rows::end_all_for_user(c, &user.id, Some(&sid), now)?;
            one_time_tokens::revoke(c, &user.id, LinkPurpose::ResetPassword)?;
            withdraw_pending(c, &user.id, now)?;
            let revoked = if revoke_tokens {
                Some(self::revoke_tokens(c, &user.id, now)?)
            } else {
                None
            };
            mail_password_changed(c, &config, &meta, &user, revoked.as_deref(), false)?;
            activity::record(
                c,
                &meta,
                Event::password_changed(&user.id, ended, revoked.as_ref().map(Vec::len)),
            )?;
            Ok(())
        })
    })
    .await
}

/// `POST /v1/auth/password-reset/request`: queues the request (R5); a job mails the link. The
/// request does the same work whether the address has an account or not (one job queued), so
/// neither its answer nor its time tells; a malformed address is only answered.
pub async fn request_reset(ctx: &Services, meta: Origin, email: String) -> Result<(), AppError> {
    let Ok(email) = Email::parse(&email, "/email") else {
        return Ok(());
    };
    // Per address, known or not (so the limit says nothing): protects a mailbox from floods.
    ctx.limits
        .account(&format!("password-reset:{}", email.as_str()))
        .await?;
    let payload = crate::jobs::request_password_reset::Payload {
        email: email.into_inner(),
        ip: meta.ip,
        user_agent: meta.user_agent,
    };
    let max_attempts = ctx.config.job_max_attempts;
    db::run(&ctx.pool, move |conn| {
        db::write(conn, |c| {
            crate::models::jobs::enqueue(
                c,
                crate::models::jobs::NewJob::new(
                    crate::jobs::request_password_reset::KIND,
                    serde_json::to_value(&payload)
                        .map_err(|e| AppError::internal(e.to_string()))?,
                    max_attempts,
                ),
            )?;
            Ok(())
        })
    })
    .await
}

/// The work of a reset request, in the job's transaction: when `email` is an account's login,
/// mails a single-use link (1 h; it replaces an earlier one) to its reset address (R5), within
/// that address's share of reset mails this hour; otherwise nothing.
pub fn send_reset_link(
    c: &mut DbConnection,
    config: &Config,
    meta: &Origin,
    email: &str,
) -> Result<(), AppError> {
    let Some(user) = crate::services::accounts::find_locked_by_email(c, email)? else {
        return Ok(());
    };
    let to = user.reset_address();
    if !crate::services::accounts::stranger_mail_allowed(c, to, "password_reset")? {
        return Ok(());
    }
    let token = one_time_tokens::issue(
        c,
        &user.id,
        LinkPurpose::ResetPassword,
        chrono::Duration::minutes(RESET_LINK_MINUTES),
        None,
    )?;
    mail::send(
        c,
        config,
        "password_reset",
        &user.language,
        to,
        serde_json::json!({
            "first_name": user.first_name,
            "link": config.app_link("/reset-password", &token),
            "minutes": RESET_LINK_MINUTES,
        }),
    )?;
    let sent_to = if to == user.email {
        "login_email"
    } else {
        "recovery_email"
    };
    activity::record(c, meta, Event::password_reset_requested(&user.id, sent_to))?;
    Ok(())
}

/// `POST /v1/auth/password-reset`: the link's token and a new password. Every session ends, every
/// personal and application token is revoked (the mail names them) and a lock is lifted (the
/// mailbox owner proved control); nobody is signed in, and the next login still asks for the
/// second factor when it is on (it and its recovery codes stay, see the module).
pub async fn reset(
    ctx: &Services,
    meta: Origin,
    token: String,
    new_password: String,
) -> Result<(), AppError> {
    let lookup = token.clone();
    let user = db::run(&ctx.pool, move |conn| {
        let Some(found) = passwords::find_usable_token(conn, &lookup, LinkPurpose::ResetPassword)?
        else {
            return Ok(None);
        };
        Ok(users::find(conn, &found.user_id)?)
    })
    .await?
    .ok_or_else(AppError::invalid_token)?;
    check_new_password(&new_password, "/new_password", &user)
        .map_err(|e| AppError::validation(vec![e]))?;
    let hash = password::hash(new_password).await?;
    let config = ctx.config.clone();
    db::run(&ctx.pool, move |conn| {
        db::write(conn, |c| {
            let (_, user) =
                crate::services::accounts::redeem_link(c, &token, LinkPurpose::ResetPassword)?;
            let now = db::now();
            passwords::set_password(c, &user.id, &hash, now)?;
            let ended = session_rows::end_all_for_user(c, &user.id, None, now)?;
            let was_locked = user.locked_at.is_some();
            users::unlock(c, &user.id)?;
            one_time_tokens::revoke(c, &user.id, LinkPurpose::Unlock)?;
            withdraw_pending(c, &user.id, now)?;
            let revoked = revoke_tokens(c, &user.id, now)?;
            mail_password_changed(c, &config, &meta, &user, Some(&revoked), true)?;
            activity::record(
                c,
                &meta,
                Event::password_reset(&user.id, ended, was_locked, revoked.len()),
            )?;
            Ok(())
        })
    })
    .await
}
