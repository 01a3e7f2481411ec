//! Erasing a deleted account's personal data, table by table. The account row stays (other
//! records point to it) with nothing left that identifies the person.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::db::schema::{one_time_tokens, recovery_codes, sessions, users};

/// The login address a deleted account keeps: unique, undeliverable (`.invalid`, RFC 2606), and
/// never a match for an address typed at sign-up or login.
pub fn tombstone_email(user_id: &str) -> String {
    format!("deleted-{user_id}@invalid")
}

/// Marks the account deleted and blanks every personal field: the login and recovery
/// addresses, names, password hash, 2FA secret, and the lock and login history. Language and
/// time zone stay (they identify no one). Returns false when the account was already deleted.
pub fn erase_user(conn: &mut DbConnection, user_id: &str, now: NaiveDateTime) -> QueryResult<bool> {
    diesel::update(
        users::table
            .find(user_id)
            .filter(users::deleted_at.is_null()),
    )
    .set((
        users::email.eq(tombstone_email(user_id)),
        users::first_name.eq("Deleted"),
        users::last_name.eq(""),
        users::password_hash.eq(""),
        users::recovery_email.eq(None::<String>),
        users::recovery_email_verified_at.eq(None::<NaiveDateTime>),
        users::pending_recovery_email.eq(None::<String>),
        users::totp_secret.eq(None::<String>),
        users::totp_enabled_at.eq(None::<NaiveDateTime>),
        users::totp_last_step.eq(None::<i64>),
        users::failed_logins.eq(0),
        users::locked_at.eq(None::<NaiveDateTime>),
        users::last_login_at.eq(None::<NaiveDateTime>),
        users::notify_on_login_success.eq(false),
        users::notify_on_login_failure.eq(false),
        users::updated_at.eq(now),
        users::deleted_at.eq(Some(now)),
    ))
    .execute(conn)
    .map(|n| n == 1)
}

/// Mail-link tokens: unused ones go; used ones lose the address they carried.
pub fn erase_one_time_tokens(conn: &mut DbConnection, user_id: &str) -> QueryResult<usize> {
    let deleted = diesel::delete(
        one_time_tokens::table
            .filter(one_time_tokens::user_id.eq(user_id))
            .filter(one_time_tokens::used_at.is_null()),
    )
    .execute(conn)?;
    diesel::update(
        one_time_tokens::table
            .filter(one_time_tokens::user_id.eq(user_id))
            .filter(one_time_tokens::new_email.is_not_null()),
    )
    .set(one_time_tokens::new_email.eq(None::<String>))
    .execute(conn)?;
    Ok(deleted)
}

pub fn delete_recovery_codes(conn: &mut DbConnection, user_id: &str) -> QueryResult<usize> {
    diesel::delete(recovery_codes::table.filter(recovery_codes::user_id.eq(user_id))).execute(conn)
}

/// The connection log keeps when sessions ran, not from where or on what.
pub fn erase_session_origins(conn: &mut DbConnection, user_id: &str) -> QueryResult<usize> {
    diesel::update(sessions::table.filter(sessions::user_id.eq(user_id)))
        .set((
            sessions::ip.eq(None::<String>),
            sessions::user_agent.eq(None::<String>),
        ))
        .execute(conn)
}

/// Every address the account has used (login, recovery, pending recovery): mail sent or queued
/// to them is personal data too.
pub fn addresses(conn: &mut DbConnection, user_id: &str) -> QueryResult<Vec<String>> {
    use crate::db::schema::users;
    let (email, recovery, pending): (String, Option<String>, Option<String>) = users::table
        .find(user_id)
        .select((
            users::email,
            users::recovery_email,
            users::pending_recovery_email,
        ))
        .first(conn)?;
    Ok([Some(email), recovery, pending]
        .into_iter()
        .flatten()
        .collect())
}
