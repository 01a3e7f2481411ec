//! Sign-up and email verification. Answers never reveal whether an address has an account.
//!
//! An account whose address was never verified belongs to nobody yet: each sign-up attempt on its
//! address replaces everything it holds (password, names, language, zone; lock state, second
//! factor, recovery address, tokens and sessions back to those of a new account) and voids every
//! earlier link, so the only link that works verifies exactly the newest attempt, and whoever
//! tried before (perhaps someone else) keeps nothing.

use crate::auth::password;
use crate::config::Config;
use crate::db::{self, DbConnection, Pool};
use crate::domain::account_states::LinkPurpose;
use crate::domain::actor::Origin;
use crate::domain::{self, Checks, Email};
use crate::error::AppError;
use crate::mail;
use crate::models::one_time_tokens;
use crate::models::users::{self, User};
use crate::models::{api_tokens, mails, recovery_codes, sessions as session_rows};
use crate::services::activity::{self, Event, SignedUpVia};

pub const VERIFY_EMAIL_HOURS: i64 = 24;
pub const DEFAULT_LOCK_AFTER: i32 = 10;

/// Mails a stranger can cause (sign-up and verification mails, reset and unlock links) go to one
/// address at most this many times an hour, per kind of mail; past it nothing is sent (and
/// nothing changes), with the same answer.
pub const STRANGER_MAILS_PER_HOUR: i64 = 3;

/// Whether `template` may still go to `to` this hour (see `STRANGER_MAILS_PER_HOUR`). Counted in
/// the outbox, so the limit holds across instances; call it holding the row lock of the account
/// the mail is about (`users::lock`), so two requests at once on PostgreSQL cannot both pass.
pub fn stranger_mail_allowed(
    conn: &mut DbConnection,
    to: &str,
    template: &str,
) -> diesel::QueryResult<bool> {
    let since = db::now() - chrono::Duration::hours(1);
    Ok(mails::count_recent(conn, to, template, since)? < STRANGER_MAILS_PER_HOUR)
}

/// The live account of a login address, its row locked for the rest of the transaction.
pub fn find_locked_by_email(
    conn: &mut DbConnection,
    email: &str,
) -> diesel::QueryResult<Option<User>> {
    let Some(found) = users::find_by_email(conn, email)? else {
        return Ok(None);
    };
    users::lock(conn, &found.id)?;
    // Read again under the lock: another request may have changed it meanwhile.
    users::find(conn, &found.id)
}

/// Ends whatever an account never verified may hold from an earlier attempt: every unused mail
/// link, session, token and recovery code (it cannot sign in, so there should be none but links).
fn forget_earlier_attempts(
    conn: &mut DbConnection,
    user_id: &str,
    now: chrono::NaiveDateTime,
) -> diesel::QueryResult<()> {
    one_time_tokens::revoke_every(conn, user_id)?;
    session_rows::end_all_for_user(conn, user_id, None, now)?;
    api_tokens::revoke_all_for_user(conn, user_id, now)?;
    recovery_codes::delete_all(conn, user_id)?;
    Ok(())
}

pub struct SignUp {
    pub email: String,
    pub password: String,
    pub first_name: String,
    pub last_name: String,
    pub language: Option<String>,
    pub timezone: Option<String>,
}

/// A new account, valid fields checked (all errors at once) and the password hashed.
pub async fn prepare(input: SignUp, verified: bool) -> Result<User, AppError> {
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
        return Err(AppError::internal("checked fields missing"));
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
) -> Result<(), AppError> {
    let token = one_time_tokens::issue(
        conn,
        &user.id,
        LinkPurpose::VerifyEmail,
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

/// Creates the account and mails the verification link. An address already verified gets a mail
/// telling its owner instead; an address never verified gets this attempt in place of the
/// earlier one (see the module) and a link for it. Same answer either way, also when the
/// address had its share of mails this hour and nothing happens.
pub async fn sign_up(
    pool: &Pool,
    config: &Config,
    meta: Origin,
    input: SignUp,
) -> Result<(), AppError> {
    let user = prepare(input, false).await?;
    let config = config.clone();
    db::run(pool, move |conn| {
        db::write(conn, |conn| {
            match find_locked_by_email(conn, &user.email)? {
                Some(existing) if existing.email_verified_at.is_some() => {
                    if !stranger_mail_allowed(conn, &existing.email, "signup_existing")? {
                        return Ok(());
                    }
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
                Some(existing) => {
                    if !stranger_mail_allowed(conn, &existing.email, "verify_email")? {
                        return Ok(());
                    }
                    let attempt = User {
                        id: existing.id.clone(),
                        email: existing.email.clone(),
                        created_at: existing.created_at,
                        ..user
                    };
                    users::replace_unverified(conn, &attempt.id, &attempt)?;
                    forget_earlier_attempts(conn, &attempt.id, attempt.updated_at)?;
                    activity::record(
                        conn,
                        &meta,
                        Event::signed_up(&attempt.id, SignedUpVia::FormAgain)
                            .named(attempt.full_name()),
                    )?;
                    send_verification(conn, &config, &attempt)
                }
                None => {
                    users::insert(conn, &user)?;
                    activity::record(
                        conn,
                        &meta,
                        Event::signed_up(&user.id, SignedUpVia::Form).named(user.full_name()),
                    )?;
                    send_verification(conn, &config, &user)
                }
            }
        })
    })
    .await
}

/// Uses the single-use token of a mail link (in the caller's transaction, holding its account's
/// row lock from then on): the token and its live account, or 400 `invalid_token` when it is
/// unknown, used, expired or its account gone.
pub fn redeem_link(
    conn: &mut DbConnection,
    token: &str,
    purpose: LinkPurpose,
) -> Result<(one_time_tokens::OneTimeToken, User), AppError> {
    // The account's row lock first, then the token's (the order of every change to an account
    // and its links: a sign-up replacing an unverified account's attempt takes them so too), so
    // two such changes at once on PostgreSQL wait for each other instead of deadlocking.
    if let Some(found) = crate::models::passwords::find_usable_token(conn, token, purpose)? {
        users::lock(conn, &found.user_id)?;
    }
    let used =
        one_time_tokens::consume(conn, token, purpose)?.ok_or_else(AppError::invalid_token)?;
    let user = users::find(conn, &used.user_id)?.ok_or_else(AppError::invalid_token)?;
    Ok((used, user))
}

/// Verifies the sign-up attempt of the link. The link alone only proves control of the mailbox,
/// not whose attempt it verifies: a stranger who signs up with the address after its owner (but
/// before the owner clicks) makes the newest link theirs. So once an attempt has replaced another
/// on the address, the link also needs that attempt's password (422 `password_required`, or
/// `wrong_password`, at `/password`: nothing changes and the link stays usable; whoever did not
/// make the attempt signs up again, which voids it). A password given is always checked.
pub async fn verify_email(
    pool: &Pool,
    meta: Origin,
    token: String,
    password: Option<String>,
) -> Result<(), AppError> {
    let lookup = token.clone();
    let (attempt, replaced) = db::run(pool, move |conn| {
        let Some(found) =
            crate::models::passwords::find_usable_token(conn, &lookup, LinkPurpose::VerifyEmail)?
        else {
            return Ok(None);
        };
        let Some(user) = users::find(conn, &found.user_id)? else {
            return Ok(None);
        };
        let replaced = users::signup_replaced(conn, &user.id)?;
        Ok(Some((user, replaced)))
    })
    .await?
    .ok_or_else(AppError::invalid_token)?;
    let checked_hash = attempt.password_hash.clone();
    let password_error = |code: &str, message: &str| {
        AppError::validation(vec![crate::error::FieldError {
            field: "/password".into(),
            code: code.into(),
            message: message.into(),
        }])
    };
    let given = password.is_some();
    if given && !password::verify(password.unwrap_or_default(), Some(attempt.password_hash)).await?
    {
        return Err(password_error(
            "wrong_password",
            "is not the password of the sign-up this link confirms: if you did not sign up \
             with it, sign up again",
        ));
    }
    if !given && replaced {
        return Err(password_error(
            "password_required",
            "this address was signed up for more than once: give the password chosen at the \
             sign-up this link confirms (if it was not you, sign up again)",
        ));
    }
    db::run(pool, move |conn| {
        db::write(conn, |conn| {
            let (_, user) = redeem_link(conn, &token, LinkPurpose::VerifyEmail)?;
            // Another attempt replaced this one meanwhile (it also voids the link).
            if user.password_hash != checked_hash {
                return Err(AppError::invalid_token());
            }
            // Only the newest attempt has a link; none other may outlive the verification.
            one_time_tokens::revoke(conn, &user.id, LinkPurpose::VerifyEmail)?;
            users::mark_email_verified(conn, &user.id, db::now())?;
            activity::record(conn, &meta, Event::user_email_verified(&user.id))?;
            Ok(())
        })
    })
    .await
}

pub async fn resend_verification(
    pool: &Pool,
    config: &Config,
    meta: Origin,
    email: String,
) -> Result<(), AppError> {
    let Ok(email) = Email::parse(&email, "/email") else {
        // Not an address: nothing to send, and the same answer as for any other.
        return Ok(());
    };
    let config = config.clone();
    db::run(pool, move |conn| {
        db::write(conn, |conn| {
            if let Some(user) = find_locked_by_email(conn, email.as_str())?
                .filter(|u| u.email_verified_at.is_none())
            {
                if !stranger_mail_allowed(conn, &user.email, "verify_email")? {
                    return Ok(());
                }
                send_verification(conn, &config, &user)?;
                activity::record(conn, &meta, Event::user_verification_resent(&user.id))?;
            }
            Ok(())
        })
    })
    .await
}

/// Creates a verified account at once (for `leman users create`: scripts, demos, contract tests).
/// Refuses an address already taken.
pub async fn create_verified(pool: &Pool, input: SignUp) -> Result<User, AppError> {
    let user = prepare(input, true).await?;
    db::run(pool, move |conn| {
        db::write(conn, |conn| {
            if users::find_by_email(conn, &user.email)?.is_some() {
                return Err(AppError::field(
                    "/email",
                    "taken",
                    "an account already uses this address",
                ));
            }
            users::insert(conn, &user)?;
            activity::record(
                conn,
                &Origin::operator("users create"),
                Event::signed_up(&user.id, SignedUpVia::Cli),
            )?;
            Ok(user)
        })
    })
    .await
}
