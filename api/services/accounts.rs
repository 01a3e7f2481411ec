//! Sign-up and email verification. Answers never reveal whether an address has an account.

use crate::auth::password;
use crate::config::Config;
use crate::db::{self, DbConnection, Pool};
use crate::domain::{self, Checks, Email};
use crate::error::ApiError;
use crate::http::meta::RequestMeta;
use crate::mail;
use crate::models::one_time_tokens::{self, VERIFY_EMAIL};
use crate::models::users::{self, User};
use crate::services::activity::{self, Event};

pub const VERIFY_EMAIL_HOURS: i64 = 24;
pub const DEFAULT_LOCK_AFTER: i32 = 10;

pub struct SignUp {
    pub email: String,
    pub password: String,
    pub first_name: String,
    pub last_name: String,
    pub language: Option<String>,
    pub timezone: Option<String>,
}

/// A new account, valid fields checked (all errors at once) and the password hashed.
pub async fn prepare(input: SignUp, verified: bool) -> Result<User, ApiError> {
    let mut checks = Checks::default();
    let email = checks.check(Email::parse(&input.email, "/email"));
    let first_name = checks.check(domain::parse_name(&input.first_name, "/first_name"));
    let last_name = checks.check(domain::parse_name(&input.last_name, "/last_name"));
    let language = match &input.language {
        Some(l) => checks.check(domain::parse_language(l, "/language")),
        None => Some("en".to_string()),
    };
    let timezone = match &input.timezone {
        Some(t) => checks
            .check(domain::parse_timezone(t, "/timezone"))
            .map(|tz| tz.name().to_string()),
        None => Some("Europe/Zurich".to_string()),
    };
    let inputs = [
        input.email.as_str(),
        input.first_name.as_str(),
        input.last_name.as_str(),
    ];
    checks.check(domain::check_password(
        &input.password,
        "/password",
        &inputs,
    ));
    checks.finish()?;
    let (Some(email), Some(first_name), Some(last_name), Some(language), Some(timezone)) =
        (email, first_name, last_name, language, timezone)
    else {
        return Err(ApiError::internal("checked fields missing"));
    };
    let hash = password::hash(input.password).await?;
    let now = db::now();
    Ok(User {
        id: db::new_id("usr"),
        email: email.into_inner(),
        email_verified_at: verified.then_some(now),
        password_hash: hash,
        first_name,
        last_name,
        language,
        timezone,
        recovery_email: None,
        recovery_email_verified_at: None,
        pending_recovery_email: None,
        failed_logins: 0,
        locked_at: None,
        lock_after_failed_logins: DEFAULT_LOCK_AFTER,
        notify_on_login_success: false,
        notify_on_login_failure: true,
        totp_secret: None,
        totp_enabled_at: None,
        totp_last_step: None,
        password_changed_at: now,
        last_login_at: None,
        created_at: now,
        updated_at: now,
        deleted_at: None,
    })
}

fn send_verification(
    conn: &mut DbConnection,
    config: &Config,
    user: &User,
) -> Result<(), ApiError> {
    let token = one_time_tokens::issue(
        conn,
        &user.id,
        VERIFY_EMAIL,
        chrono::Duration::hours(VERIFY_EMAIL_HOURS),
        None,
    )?;
    mail::send(
        conn,
        config,
        "verify_email",
        &user.language,
        &user.email,
        serde_json::json!({
            "first_name": user.first_name,
            "link": config.app_link("/verify-email", &token),
            "hours": VERIFY_EMAIL_HOURS,
        }),
    )?;
    Ok(())
}

/// Creates the account and mails the verification link; an address already taken gets a mail
/// telling its owner instead (or a new link, when it was never verified). Same answer either way.
pub async fn sign_up(
    pool: &Pool,
    config: &Config,
    meta: RequestMeta,
    input: SignUp,
) -> Result<(), ApiError> {
    let user = prepare(input, false).await?;
    let config = config.clone();
    db::run(pool, move |conn| {
        db::write(conn, |conn| {
            match users::find_by_email(conn, &user.email)? {
                Some(existing) if existing.email_verified_at.is_some() => {
                    mail::send(
                        conn,
                        &config,
                        "signup_existing",
                        &existing.language,
                        &existing.email,
                        serde_json::json!({
                            "first_name": existing.first_name,
                            "login_link": format!("{}/login", config.app_url),
                            "reset_link": format!("{}/forgot-password", config.app_url),
                        }),
                    )?;
                    Ok(())
                }
                Some(existing) => send_verification(conn, &config, &existing),
                None => {
                    users::insert(conn, &user)?;
                    activity::record(
                        conn,
                        &meta,
                        Event::new("user.signed_up", &user.id).named(user.full_name()),
                    )?;
                    send_verification(conn, &config, &user)
                }
            }
        })
    })
    .await
}

/// Uses the single-use token of a mail link (in the caller's transaction): the token and its
/// live account, or 400 `invalid_token` when it is unknown, used, expired or its account gone.
pub fn redeem_link(
    conn: &mut DbConnection,
    token: &str,
    purpose: &str,
) -> Result<(one_time_tokens::OneTimeToken, User), ApiError> {
    let used =
        one_time_tokens::consume(conn, token, purpose)?.ok_or_else(ApiError::invalid_token)?;
    let user = users::find(conn, &used.user_id)?.ok_or_else(ApiError::invalid_token)?;
    Ok((used, user))
}

pub async fn verify_email(pool: &Pool, meta: RequestMeta, token: String) -> Result<(), ApiError> {
    db::run(pool, move |conn| {
        db::write(conn, |conn| {
            let (_, user) = redeem_link(conn, &token, VERIFY_EMAIL)?;
            users::mark_email_verified(conn, &user.id, db::now())?;
            activity::record(conn, &meta, Event::new("user.email_verified", &user.id))?;
            Ok(())
        })
    })
    .await
}

pub async fn resend_verification(
    pool: &Pool,
    config: &Config,
    meta: RequestMeta,
    email: String,
) -> Result<(), ApiError> {
    let Ok(email) = Email::parse(&email, "/email") else {
        // Not an address: nothing to send, and the same answer as for any other.
        return Ok(());
    };
    let config = config.clone();
    db::run(pool, move |conn| {
        db::write(conn, |conn| {
            if let Some(user) = users::find_by_email(conn, email.as_str())?
                .filter(|u| u.email_verified_at.is_none())
            {
                send_verification(conn, &config, &user)?;
                activity::record(
                    conn,
                    &meta,
                    Event::new("user.verification_resent", &user.id),
                )?;
            }
            Ok(())
        })
    })
    .await
}

/// Creates a verified account at once (for `leman users create`: scripts, demos, contract tests).
/// Refuses an address already taken.
pub async fn create_verified(pool: &Pool, input: SignUp) -> Result<User, ApiError> {
    let user = prepare(input, true).await?;
    db::run(pool, move |conn| {
        db::write(conn, |conn| {
            if users::find_by_email(conn, &user.email)?.is_some() {
                return Err(ApiError::field(
                    "/email",
                    "taken",
                    "an account already uses this address",
                ));
            }
            users::insert(conn, &user)?;
            activity::record(
                conn,
                &RequestMeta::default(),
                Event::new("user.signed_up", &user.id).details(serde_json::json!({"via": "cli"})),
            )?;
            Ok(user)
        })
    })
    .await
}
