//! Passwords: changing one's own (ends the other sessions), and the forgotten-password reset
//! (R5: the link goes to the verified recovery address, else the login address; following it
//! ends every session and lifts a lock).

use actix_web::http::StatusCode;

use crate::auth::password;
use crate::config::Config;
use crate::db::{self, DbConnection, Pool};
use crate::domain::{self, Checks, Email};
use crate::error::{ApiError, FieldError};
use crate::http::meta::RequestMeta;
use crate::mail;
use crate::models::one_time_tokens::{
    self, CONFIRM_LOGIN_EMAIL, CONFIRM_RECOVERY_EMAIL, MFA_LOGIN, RESET_PASSWORD, UNLOCK,
};
use crate::models::passwords;
use crate::models::sessions as session_rows;
use crate::models::users::{self, User};
use crate::services::activity::{self, Event};
use crate::services::sessions;
use crate::startup::Services;

/// How long a reset link works.
pub const RESET_LINK_MINUTES: i64 = 60;

/// Tokens have no password and no session: what changes credentials needs a person signed in.
pub fn session_required() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
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
    for purpose in [MFA_LOGIN, CONFIRM_LOGIN_EMAIL, CONFIRM_RECOVERY_EMAIL] {
        one_time_tokens::revoke(c, user_id, purpose)?;
    }
    crate::models::emails::set_pending_recovery_email(c, user_id, None, now)?;
    Ok(())
}

pub fn account_locked() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
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
pub async fn load_user(pool: &Pool, user_id: &str) -> Result<User, ApiError> {
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
    meta: &RequestMeta,
    user: &User,
    password: String,
) -> Result<bool, ApiError> {
    if user.locked_at.is_some() {
        return Err(account_locked());
    }
    // The same per-account budget as sign-ins: a session cannot guess faster than a login.
    ctx.limits.account(&user.email)?;
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

/// Tells the account's login address that its password changed, with when, where from and how.
fn mail_password_changed(
    conn: &mut DbConnection,
    config: &Config,
    meta: &RequestMeta,
    user: &User,
) -> Result<(), ApiError> {
    let mut ctx = sessions::alert_context(user, meta);
    ctx["reset_link"] = format!("{}/forgot-password", config.app_url).into();
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
/// from it. The caller's other sessions end; pending reset links stop working.
pub async fn change(
    ctx: &Services,
    meta: RequestMeta,
    caller: crate::auth::Caller,
    current_password: String,
    new_password: String,
) -> Result<(), ApiError> {
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
        return Err(ApiError::field(
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
            one_time_tokens::revoke(c, &user.id, RESET_PASSWORD)?;
            withdraw_pending(c, &user.id, now)?;
            mail_password_changed(c, &config, &meta, &user)?;
            activity::record(
                c,
                &meta,
                Event::new("password.changed", &user.id)
                    .details(serde_json::json!({"sessions_ended": ended})),
            )?;
            Ok(())
        })
    })
    .await
}

/// `POST /v1/auth/password-reset/request`: mails a single-use link (1 h) to the account's reset
/// address (R5). Unknown or malformed addresses get the same answer and nothing is written.
pub async fn request_reset(
    ctx: &Services,
    meta: RequestMeta,
    email: String,
) -> Result<(), ApiError> {
    let Ok(email) = Email::parse(&email, "/email") else {
        return Ok(());
    };
    // Per address, known or not (so the limit says nothing): protects a mailbox from floods.
    ctx.limits
        .account(&format!("password-reset:{}", email.as_str()))?;
    let config = ctx.config.clone();
    db::run(&ctx.pool, move |conn| {
        db::write(conn, |c| {
            let Some(user) = users::find_by_email(c, email.as_str())? else {
                return Ok(());
            };
            let token = one_time_tokens::issue(
                c,
                &user.id,
                RESET_PASSWORD,
                chrono::Duration::minutes(RESET_LINK_MINUTES),
                None,
            )?;
            let to = user.reset_address();
            mail::send(
                c,
                &config,
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
            activity::record(
                c,
                &meta,
                Event::new("password.reset_requested", &user.id)
                    .details(serde_json::json!({"sent_to": sent_to})),
            )?;
            Ok(())
        })
    })
    .await
}

/// `POST /v1/auth/password-reset`: the link's token and a new password. Every session ends and a
/// lock is lifted (the mailbox owner proved control); nobody is signed in, and the next login
/// still asks for the second factor when it is on.
pub async fn reset(
    ctx: &Services,
    meta: RequestMeta,
    token: String,
    new_password: String,
) -> Result<(), ApiError> {
    let lookup = token.clone();
    let user = db::run(&ctx.pool, move |conn| {
        let Some(found) = passwords::find_usable_token(conn, &lookup, RESET_PASSWORD)? else {
            return Ok(None);
        };
        Ok(users::find(conn, &found.user_id)?)
    })
    .await?
    .ok_or_else(ApiError::invalid_token)?;
    check_new_password(&new_password, "/new_password", &user)
        .map_err(|e| ApiError::validation(vec![e]))?;
    let hash = password::hash(new_password).await?;
    let config = ctx.config.clone();
    db::run(&ctx.pool, move |conn| {
        db::write(conn, |c| {
            let (_, user) = crate::services::accounts::redeem_link(c, &token, RESET_PASSWORD)?;
            let now = db::now();
            passwords::set_password(c, &user.id, &hash, now)?;
            let ended = session_rows::end_all_for_user(c, &user.id, None, now)?;
            let was_locked = user.locked_at.is_some();
            users::unlock(c, &user.id)?;
            one_time_tokens::revoke(c, &user.id, UNLOCK)?;
            withdraw_pending(c, &user.id, now)?;
            mail_password_changed(c, &config, &meta, &user)?;
            activity::record(
                c,
                &meta,
                Event::new("password.reset", &user.id)
                    .details(serde_json::json!({"sessions_ended": ended, "unlocked": was_locked})),
            )?;
            Ok(())
        })
    })
    .await
}
