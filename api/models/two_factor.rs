//! The two-factor columns of `users`: the TOTP secret (pending while `totp_enabled_at` is NULL),
//! when it was turned on, and the last 30-second step a code was accepted for.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::db::schema::users;

/// Stores a new pending secret (enrolment started, 2FA still off). No-op when 2FA is on.
pub fn set_pending(
    conn: &mut DbConnection,
    user_id: &str,
    secret: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        users::table
            .find(user_id)
            .filter(users::totp_enabled_at.is_null()),
    )
    .set((
        users::totp_secret.eq(Some(secret)),
        users::totp_last_step.eq(None::<i64>),
        users::updated_at.eq(now),
    ))
    .execute(conn)
}

/// Turns 2FA on with the pending `secret`, the step of the confirming code counting as used.
/// Zero rows when it is already on or the pending secret changed meanwhile.
pub fn enable(
    conn: &mut DbConnection,
    user_id: &str,
    secret: &str,
    step: i64,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        users::table
            .find(user_id)
            .filter(users::totp_enabled_at.is_null())
            .filter(users::totp_secret.eq(secret)),
    )
    .set((
        users::totp_enabled_at.eq(Some(now)),
        users::totp_last_step.eq(Some(step)),
        users::updated_at.eq(now),
    ))
    .execute(conn)
}

/// Turns 2FA off: secret and last step cleared.
pub fn disable(conn: &mut DbConnection, user_id: &str, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(
        users::table
            .find(user_id)
            .filter(users::totp_enabled_at.is_not_null()),
    )
    .set((
        users::totp_secret.eq(None::<String>),
        users::totp_enabled_at.eq(None::<NaiveDateTime>),
        users::totp_last_step.eq(None::<i64>),
        users::updated_at.eq(now),
    ))
    .execute(conn)
}

/// Records `step` as used, only if it is later than the last used one: false means the step
/// was already used (a replay, possibly by a concurrent request).
pub fn use_step(conn: &mut DbConnection, user_id: &str, step: i64) -> QueryResult<bool> {
    diesel::update(
        users::table.find(user_id).filter(
            users::totp_last_step
                .is_null()
                .or(users::totp_last_step.lt(step)),
        ),
    )
    .set(users::totp_last_step.eq(Some(step)))
    .execute(conn)
    .map(|n| n == 1)
}

/// After a successful re-authentication the failure count starts again.
pub fn reset_failures(conn: &mut DbConnection, user_id: &str) -> QueryResult<usize> {
    diesel::update(users::table.find(user_id))
        .set(users::failed_logins.eq(0))
        .execute(conn)
}
