//! Logging in and out, and keeping a session alive: password check (with lockout and alerts),
//! session creation, refresh-token rotation with reuse detection.

use crate::error::Status;
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::jwt::{self, Claims};
use crate::auth::{password, secrets};
use crate::config::Config;
use crate::context::Services;
use crate::db::{self, DbConnection};
use crate::domain::Email;
use crate::domain::account_states::{LinkPurpose, SessionEndReason};
use crate::domain::actor::Origin;
use crate::error::AppError;
use crate::mail;
use crate::models::one_time_tokens;
use crate::models::sessions::{self, Session};
use crate::models::users::{self, User};
use crate::services::activity::{self, Event};

/// How long the password step of a login with 2FA on waits for the code.
pub const MFA_TTL_SECS: i64 = 300;

pub const UNLOCK_LINK_MINUTES: i64 = 60;

/// What a finished login returns.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"outcome": "tokens", "access_token": "eyJhbGciOiJIUzI1NiIsImtpZCI6ImtleV8wMSJ9.eyJzdWIiOiJ1c3JfMDEifQ.c2lnbmF0dXJl", "token_type": "Bearer", "expires_in": 900, "refresh_token": "Vb3q3yO2kq1cO1u7W4dD2m8kq0x5r2T9yJrM3gS6pQ8", "session_id": "ses_01936d7a6b2f7c3e9d4a5b6c7d8e9f00"}))]
pub struct Tokens {
    /// Always `tokens`: tells this answer of a login from `mfa_required` (the discriminator of
    /// `LoginOutcome`).
    #[schema(value_type = String, pattern = "^tokens$", example = "tokens")]
    pub outcome: &'static str,
    /// Bearer token for every other request, valid 15 minutes.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds the access token stays valid.
    pub expires_in: i64,
    /// Single-use: `POST /v1/auth/refresh` returns a new pair. Presenting a used one again ends
    /// the session.
    pub refresh_token: String,
    pub session_id: String,
}

/// The first login step succeeded; send the 2FA code with `mfa_token` to `POST /v1/auth/login/mfa`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"outcome": "mfa_required", "mfa_required": true, "mfa_token": "gwDRJXOAVsu1JX9l6ynX5nypta1Xrn0eRNYtYgCcdUU"}))]
pub struct MfaRequired {
    /// Always `mfa_required` (the discriminator of `LoginOutcome`).
    #[schema(value_type = String, pattern = "^mfa_required$", example = "mfa_required")]
    pub outcome: &'static str,
    /// Always `true`.
    pub mfa_required: bool,
    /// Opaque; valid 5 minutes and for one sign-in (wrong codes may be retried with it); a
    /// password change or reset withdraws it.
    pub mfa_token: String,
}

/// A login's answer: the tokens, or the second factor is needed; `outcome` tells which.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum LoginOutcome {
    Tokens(Tokens),
    MfaRequired(MfaRequired),
}

pub fn invalid_credentials() -> AppError {
    AppError::new(
        Status::Unauthorized,
        "invalid_credentials",
        "The email address or the password is wrong.",
    )
}

pub fn user_time(user: &User) -> String {
    let tz: chrono_tz::Tz = user.timezone.parse().unwrap_or(chrono_tz::Europe::Zurich);
    chrono::Utc::now()
        .with_timezone(&tz)
        .format("%Y-%m-%d %H:%M %Z")
        .to_string()
}

/// A login-alert or lock mail's common facts: when (in the user's zone), from where, on what.
pub fn alert_context(user: &User, meta: &Origin) -> serde_json::Value {
    serde_json::json!({
        "first_name": user.first_name,
        "time": user_time(user),
        "ip": meta.ip.clone().unwrap_or_else(|| "unknown".into()),
        "device": meta.device(),
    })
}

/// One failed attempt on an existing account (a wrong password or 2FA code): counts it, locks
/// the account at its threshold (mailing an unlock link), else alerts if the user asked.
pub fn record_failure(
    conn: &mut DbConnection,
    config: &Config,
    meta: &Origin,
    user: &User,
    reason: &str,
) -> Result<(), AppError> {
    let (count, locked) = users::record_failed_login(conn, &user.id, db::now())?;
    if locked {
        let token = one_time_tokens::issue(
            conn,
            &user.id,
            LinkPurpose::Unlock,
            chrono::Duration::minutes(UNLOCK_LINK_MINUTES),
            None,
        )?;
        let mut ctx = alert_context(user, meta);
        ctx["attempts"] = count.into();
        ctx["link"] = config.app_link("/unlock", &token).into();
        ctx["minutes"] = UNLOCK_LINK_MINUTES.into();
        mail::send(
            conn,
            config,
            "account_locked",
            &user.language,
            &user.email,
            ctx,
        )?;
        activity::record(conn, meta, Event::account_locked(&user.id, reason, count))?;
    } else {
        if user.notify_on_login_failure {
            mail::send(
                conn,
                config,
                "login_failed",
                &user.language,
                &user.email,
                alert_context(user, meta),
            )?;
        }
        activity::record(conn, meta, Event::login_failed(&user.id, reason, count))?;
    }
    Ok(())
}

/// The password step. A locked account, an unknown email and a wrong password all give the same
/// 401 after the same work (a hash verification).
pub async fn login(
    ctx: &Services,
    meta: Origin,
    email: String,
    password: String,
) -> Result<LoginOutcome, AppError> {
    let email = Email::parse(&email, "/email")
        .map(Email::into_inner)
        .unwrap_or_else(|_| email.trim().to_lowercase());
    ctx.limits.account(&email).await?;
    let lookup = email.clone();
    let user = db::run(&ctx.pool, move |conn| {
        Ok(users::find_by_email(conn, &lookup)?)
    })
    .await?;
    let correct =
        password::verify(password, user.as_ref().map(|u| u.password_hash.clone())).await?;
    let Some(user) = user else {
        return Err(invalid_credentials());
    };
    if user.locked_at.is_some() {
        let meta = meta.clone();
        let id = user.id.clone();
        db::run(&ctx.pool, move |conn| {
            Ok(db::write(conn, |c| {
                activity::record(c, &meta, Event::login_failed_locked(&id))
            })?)
        })
        .await?;
        return Err(invalid_credentials());
    }
    if !correct {
        let config = ctx.config.clone();
        db::run(&ctx.pool, move |conn| {
            db::write(conn, |c| {
                record_failure(c, &config, &meta, &user, "password")
            })
        })
        .await?;
        return Err(invalid_credentials());
    }
    if user.email_verified_at.is_none() {
        return Err(AppError::new(
            Status::Forbidden,
            "email_not_verified",
            "Confirm your email address first: follow the link we sent, or ask for a new one.",
        ));
    }
    if user.two_factor_enabled() {
        // Opaque and stored: used once, and withdrawn when the password changes.
        let id = user.id.clone();
        let mfa_token = db::run(&ctx.pool, move |conn| {
            Ok(one_time_tokens::issue_another(
                conn,
                &id,
                LinkPurpose::MfaLogin,
                chrono::Duration::seconds(MFA_TTL_SECS),
                None,
            )?)
        })
        .await?;
        return Ok(LoginOutcome::MfaRequired(MfaRequired {
            outcome: "mfa_required",
            mfa_required: true,
            mfa_token,
        }));
    }
    start_session(ctx, meta, user, vec!["pwd".into()])
        .await
        .map(LoginOutcome::Tokens)
}

/// Opens a session for a fully authenticated user and returns its tokens.
pub async fn start_session(
    ctx: &Services,
    meta: Origin,
    user: User,
    amr: Vec<String>,
) -> Result<Tokens, AppError> {
    let refresh = secrets::new_secret("");
    let refresh_hash = secrets::hash(&refresh);
    let now = db::now();
    let session = Session {
        id: db::new_id("ses"),
        user_id: user.id.clone(),
        amr: amr.join(" "),
        ip: meta.ip.clone(),
        user_agent: meta.user_agent.clone(),
        created_at: now,
        last_seen_at: now,
        refreshed_at: now,
        authenticated_at: now,
        expires_at: now + ctx.config.session_absolute,
        ended_at: None,
    };
    let config = ctx.config.clone();
    let (sid, user_id, amr_text) = (session.id.clone(), user.id.clone(), session.amr.clone());
    db::run(&ctx.pool, move |conn| {
        db::write(conn, |c| {
            users::record_login(c, &user.id, now)?;
            sessions::insert(c, &session, &refresh_hash)?;
            if user.notify_on_login_success {
                mail::send(
                    c,
                    &config,
                    "login_succeeded",
                    &user.language,
                    &user.email,
                    alert_context(&user, &meta),
                )?;
            }
            activity::record(
                c,
                &meta,
                Event::login_succeeded(&user.id, &session.id, &amr),
            )?;
            Ok::<_, AppError>(())
        })
    })
    .await?;
    tokens(ctx, &user_id, &sid, &amr_text, refresh)
}

fn tokens(
    ctx: &Services,
    user_id: &str,
    sid: &str,
    amr: &str,
    refresh: String,
) -> Result<Tokens, AppError> {
    let amr = amr
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    let claims = Claims::new(jwt::ACCESS_TYPE, user_id, sid, jwt::ACCESS_TTL_SECS, amr);
    let access_token =
        jwt::encode(&ctx.keys, &claims).map_err(|e| AppError::internal(e.to_string()))?;
    Ok(Tokens {
        outcome: "tokens",
        access_token,
        token_type: "Bearer",
        expires_in: jwt::ACCESS_TTL_SECS,
        refresh_token: refresh,
        session_id: sid.to_string(),
    })
}

fn refresh_refused() -> AppError {
    crate::auth::caller::unauthenticated(
        "The refresh token is not valid, or its session has ended; sign in again.",
    )
}

/// Rotates the refresh token. A token presented a second time ends its session (it was stolen
/// or replayed); so does a session idle past its limit.
pub async fn refresh(
    ctx: &Services,
    meta: Origin,
    refresh_token: String,
) -> Result<Tokens, AppError> {
    let old_hash = secrets::hash(&refresh_token);
    let new_secret = secrets::new_secret("");
    let new_hash = secrets::hash(&new_secret);
    let idle = ctx.config.session_idle;
    // Err(Some(e)) ends with an error after committing (the session end must stick).
    let outcome = db::run(&ctx.pool, move |conn| {
        db::write(
            conn,
            |c| -> Result<Result<(String, String, String), AppError>, AppError> {
                let now = db::now();
                let Some(token) = sessions::find_refresh(c, &old_hash)? else {
                    return Ok(Err(refresh_refused()));
                };
                let Some(session) = sessions::find(c, &token.session_id)? else {
                    return Ok(Err(refresh_refused()));
                };
                if session.ended_at.is_some() || session.expires_at <= now {
                    return Ok(Err(refresh_refused()));
                }
                let reused = token.rotated_at.is_some();
                let idle_out = session.last_seen_at + idle < now;
                if reused
                    || idle_out
                    || !sessions::rotate(c, &session.id, &old_hash, &new_hash, now)?
                {
                    sessions::end(c, &session.id, now)?;
                    let reason = if idle_out {
                        SessionEndReason::Idle
                    } else {
                        SessionEndReason::RefreshTokenReused
                    };
                    activity::record(
                        c,
                        &meta,
                        Event::session_ended(&session.user_id, &session.id, reason),
                    )?;
                    return Ok(Err(refresh_refused()));
                }
                Ok(Ok((session.user_id, session.id, session.amr)))
            },
        )
    })
    .await?;
    let (user_id, sid, amr) = outcome?;
    tokens(ctx, &user_id, &sid, &amr, new_secret)
}

/// Ends every active session of one account (by its e-mail address) or of everyone, for an
/// operator (ASVS 7.4.5): each ends as a sign-out would, with its `session.ended` activity
/// (reason `operator`); access tokens of those sessions are refused from the next request.
/// Personal and application tokens are not sessions and stay. Returns how many ended.
pub async fn end_by_operator(pool: &db::Pool, email: Option<String>) -> Result<usize, AppError> {
    db::run(pool, move |conn| {
        let user_id = match &email {
            Some(raw) => {
                let email = Email::parse(raw, "email")
                    .map_err(|e| AppError::bad_request("invalid_email", e.message))?;
                let user = users::find_by_email(conn, email.as_str())?
                    .ok_or_else(|| AppError::not_found("No account has this e-mail address."))?;
                Some(user.id)
            }
            None => None,
        };
        let meta = Origin::operator("users end-sessions");
        let mut ended = 0;
        for (sid, user_id) in sessions::active_ids(conn, user_id.as_deref())? {
            // One transaction per session: a long run commits as it goes, and a session ended
            // meanwhile by its owner is skipped (`end` touches only an active row).
            let done = db::write_retrying(conn, |c| {
                end_session(c, &meta, &user_id, &sid, SessionEndReason::Operator)
            })?;
            ended += usize::from(done);
        }
        Ok(ended)
    })
    .await
}

/// Ends one session of the user (logout, or from the connection log).
pub fn end_session(
    conn: &mut DbConnection,
    meta: &Origin,
    user_id: &str,
    sid: &str,
    reason: SessionEndReason,
) -> Result<bool, AppError> {
    let ended = sessions::end(conn, sid, db::now())? == 1;
    if ended {
        activity::record(conn, meta, Event::session_ended(user_id, sid, reason))?;
    }
    Ok(ended)
}
