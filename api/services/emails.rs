//! The login address (R4: typed twice, the password asked, different from the recovery address,
//! not another account's login; applied when the link mailed to the new address is followed, and
//! the old address is told) and the recovery address (R6: confirmed through a link that can be
//! re-sent; the pending request can be withdrawn).

use crate::auth::Caller;
use crate::context::Services;
use crate::db::{self, DbConnection};
use crate::domain::account_states::LinkPurpose;
use crate::domain::actor::Origin;
use crate::domain::{Checks, Email};
use crate::error::{AppError, FieldError};
use crate::mail;
use crate::models::emails;
use crate::models::one_time_tokens;
use crate::models::users::{self, User};
use crate::services::accounts::redeem_link;
use crate::services::activity::{self, Event};
use crate::services::passwords::{self, session_required, wrong_password};
use crate::services::sessions::alert_context;

/// How long the links confirming an address work.
pub const CONFIRM_LINK_HOURS: i64 = 24;

fn field(field: &str, code: &str, message: &str) -> FieldError {
    FieldError {
        field: field.to_string(),
        code: code.to_string(),
        message: message.to_string(),
    }
}

pub fn email_taken() -> AppError {
    AppError::conflict(
        "email_taken",
        "Another account signs in with this address; choose another one.",
    )
}

fn is_unique_violation(e: &diesel::result::Error) -> bool {
    matches!(
        e,
        diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)
    )
}

fn current_user(conn: &mut DbConnection, user_id: &str) -> Result<User, AppError> {
    users::find(conn, user_id)?
        .ok_or_else(|| crate::auth::caller::unauthenticated("The account no longer exists."))
}

/// `PUT /v1/me/login-email`: checks everything (all field errors at once, the password counting
/// as a failed attempt when wrong), refuses another account's login with 409 `email_taken`, then
/// mails a confirmation link to the new address. Nothing changes until it is followed.
pub async fn request_login_change(
    ctx: &Services,
    meta: Origin,
    caller: Caller,
    new_email: String,
    confirmation: String,
    password: String,
) -> Result<(), AppError> {
    caller.session_id().ok_or_else(session_required)?;
    let user = passwords::load_user(&ctx.pool, &caller.user_id).await?;
    let mut checks = Checks::default();
    let new = checks.check(Email::parse(&new_email, "/new_email"));
    if new_email.trim().to_lowercase() != confirmation.trim().to_lowercase() {
        checks.errors.push(field(
            "/new_email_confirmation",
            "mismatch",
            "must repeat new_email exactly",
        ));
    }
    if let Some(new) = &new {
        if new.as_str() == user.email {
            checks.errors.push(field(
                "/new_email",
                "same_as_current",
                "is already your login address",
            ));
        } else if user.recovery_email.as_deref() == Some(new.as_str()) {
            checks.errors.push(field(
                "/new_email",
                "same_as_recovery_email",
                "must differ from your recovery address",
            ));
        }
    }
    if !passwords::confirm_password(ctx, &meta, &user, password).await? {
        checks.errors.push(wrong_password("/password"));
    }
    checks.finish()?;
    let new = new.ok_or_else(|| AppError::internal("checked address missing"))?;
    let config = ctx.config.clone();
    db::run(&ctx.pool, move |conn| {
        db::write(conn, |c| {
            if emails::login_taken_by_other(c, new.as_str(), &user.id)? {
                return Err(email_taken());
            }
            let token = one_time_tokens::issue(
                c,
                &user.id,
                LinkPurpose::ConfirmLoginEmail,
                chrono::Duration::hours(CONFIRM_LINK_HOURS),
                Some(new.as_str()),
            )?;
            mail::send(
                c,
                &config,
                "confirm_login_email",
                &user.language,
                new.as_str(),
                serde_json::json!({
                    "first_name": user.first_name,
                    "new_email": new.as_str(),
                    "link": config.app_link("/confirm-login-email", &token),
                    "hours": CONFIRM_LINK_HOURS,
                }),
            )?;
            activity::record(c, &meta, Event::login_email_change_requested(&user.id))?;
            Ok(())
        })
    })
    .await
}

/// `POST /v1/users/confirm-login-email`: the link's token makes its address the login address
/// (re-checking that no account took it and that it is not the recovery address meanwhile) and
/// tells the old address. A refused confirmation leaves the link usable.
pub async fn confirm_login_change(
    ctx: &Services,
    meta: Origin,
    token: String,
) -> Result<(), AppError> {
    let config = ctx.config.clone();
    db::run(&ctx.pool, move |conn| {
        db::write(conn, |c| {
            let (used, user) = redeem_link(c, &token, LinkPurpose::ConfirmLoginEmail)?;
            let new = used.new_email.ok_or_else(AppError::invalid_token)?;
            if emails::login_taken_by_other(c, &new, &user.id)? {
                return Err(email_taken());
            }
            if user.recovery_email.as_deref() == Some(new.as_str()) {
                return Err(AppError::conflict(
                    "same_as_recovery_email",
                    "This address became your recovery address meanwhile; the login address must differ from it.",
                ));
            }
            emails::set_login_email(c, &user.id, &new, db::now()).map_err(|e| {
                if is_unique_violation(&e) {
                    email_taken()
                } else {
                    e.into()
                }
            })?;
            let mut ctx = alert_context(&user, &meta);
            ctx["old_email"] = user.email.clone().into();
            ctx["new_email"] = new.clone().into();
            mail::send(
                c,
                &config,
                "login_email_changed",
                &user.language,
                &user.email,
                ctx,
            )?;
            activity::record(c, &meta, Event::login_email_changed(&user.id))?;
            Ok(())
        })
    })
    .await
}

/// Issues a fresh confirmation link for the pending recovery address (older links stop working)
/// and mails it there.
fn send_recovery_confirmation(
    conn: &mut DbConnection,
    config: &crate::config::Config,
    user: &User,
    address: &str,
) -> Result<(), AppError> {
    let token = one_time_tokens::issue(
        conn,
        &user.id,
        LinkPurpose::ConfirmRecoveryEmail,
        chrono::Duration::hours(CONFIRM_LINK_HOURS),
        Some(address),
    )?;
    mail::send(
        conn,
        config,
        "confirm_recovery_email",
        &user.language,
        address,
        serde_json::json!({
            "first_name": user.first_name,
            "login_email": user.email,
            "link": config.app_link("/confirm-recovery-email", &token),
            "hours": CONFIRM_LINK_HOURS,
        }),
    )?;
    Ok(())
}

/// `PUT /v1/me/recovery-email` (sensitive): the address waits for its link to be followed; the
/// current recovery address, if any, stays in force until then.
pub async fn request_recovery_change(
    ctx: &Services,
    meta: Origin,
    caller: Caller,
    email: String,
) -> Result<(), AppError> {
    caller.require_recent_auth()?;
    let email = Email::parse(&email, "/email").map_err(|e| AppError::validation(vec![e]))?;
    let config = ctx.config.clone();
    db::run(&ctx.pool, move |conn| {
        db::write(conn, |c| {
            let user = current_user(c, &caller.user_id)?;
            if email.as_str() == user.email {
                return Err(AppError::field(
                    "/email",
                    "same_as_login_email",
                    "must differ from your login address",
                ));
            }
            if user.recovery_email.as_deref() == Some(email.as_str()) {
                return Err(AppError::field(
                    "/email",
                    "same_as_current",
                    "is already your recovery address",
                ));
            }
            emails::set_pending_recovery_email(c, &user.id, Some(email.as_str()), db::now())?;
            send_recovery_confirmation(c, &config, &user, email.as_str())?;
            activity::record(c, &meta, Event::recovery_email_change_requested(&user.id))?;
            Ok(())
        })
    })
    .await
}

/// `POST /v1/me/recovery-email/confirm`: the link's token proves the mailbox; the address becomes
/// the recovery address (if it still differs from the login address) and the login address is
/// told.
pub async fn confirm_recovery_change(
    ctx: &Services,
    meta: Origin,
    token: String,
) -> Result<(), AppError> {
    let config = ctx.config.clone();
    db::run(&ctx.pool, move |conn| {
        db::write(conn, |c| {
            let (used, user) = redeem_link(c, &token, LinkPurpose::ConfirmRecoveryEmail)?;
            let address = used
                .new_email
                .filter(|a| user.pending_recovery_email.as_deref() == Some(a.as_str()))
                .ok_or_else(AppError::invalid_token)?;
            if address == user.email {
                return Err(AppError::conflict(
                    "same_as_login_email",
                    "This address became your login address meanwhile; the recovery address must differ from it.",
                ));
            }
            emails::confirm_recovery_email(c, &user.id, &address, db::now())?;
            let mut ctx = alert_context(&user, &meta);
            ctx["recovery_email"] = address.into();
            mail::send(
                c,
                &config,
                "recovery_email_changed",
                &user.language,
                &user.email,
                ctx,
            )?;
            activity::record(c, &meta, Event::recovery_email_changed(&user.id))?;
            Ok(())
        })
    })
    .await
}

pub fn no_pending() -> AppError {
    AppError::conflict(
        "no_pending_recovery_email",
        "No recovery address is waiting for confirmation.",
    )
}

/// `POST /v1/me/recovery-email/resend`: a new link for the pending address; the previous one
/// stops working.
pub async fn resend_recovery_confirmation(
    ctx: &Services,
    meta: Origin,
    caller: Caller,
) -> Result<(), AppError> {
    let config = ctx.config.clone();
    db::run(&ctx.pool, move |conn| {
        db::write(conn, |c| {
            let user = current_user(c, &caller.user_id)?;
            let address = user.pending_recovery_email.clone().ok_or_else(no_pending)?;
            send_recovery_confirmation(c, &config, &user, &address)?;
            activity::record(
                c,
                &meta,
                Event::recovery_email_confirmation_resent(&user.id),
            )?;
            Ok(())
        })
    })
    .await
}

/// `DELETE /v1/me/recovery-email/pending`: withdraws the pending address; its links stop working
/// and the confirmed recovery address, if any, stays.
pub async fn withdraw_recovery_change(
    ctx: &Services,
    meta: Origin,
    caller: Caller,
) -> Result<(), AppError> {
    db::run(&ctx.pool, move |conn| {
        db::write(conn, |c| {
            let user = current_user(c, &caller.user_id)?;
            if user.pending_recovery_email.is_none() {
                return Err(AppError::not_found(
                    "No recovery address is waiting for confirmation.",
                ));
            }
            emails::set_pending_recovery_email(c, &user.id, None, db::now())?;
            one_time_tokens::revoke(c, &user.id, LinkPurpose::ConfirmRecoveryEmail)?;
            activity::record(c, &meta, Event::recovery_email_change_withdrawn(&user.id))?;
            Ok(())
        })
    })
    .await
}
