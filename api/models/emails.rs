//! The login address and the recovery address of an account.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::db::schema::users;

/// Whether another account (live or deleted: the unique index covers both) has `email` as its
/// login address.
pub fn login_taken_by_other(
    conn: &mut DbConnection,
    email: &str,
    user_id: &str,
) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        users::table
            .filter(users::email.eq(email))
            .filter(users::id.ne(user_id)),
    ))
    .get_result(conn)
}

/// Makes `email` the login address, confirmed now.
pub fn set_login_email(
    conn: &mut DbConnection,
    id: &str,
    email: &str,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(users::table.find(id))
        .set((
            users::email.eq(email),
            users::email_verified_at.eq(Some(at)),
            users::updated_at.eq(at),
        ))
        .execute(conn)
}

/// Sets (or, with `None`, clears) the recovery address waiting for confirmation.
pub fn set_pending_recovery_email(
    conn: &mut DbConnection,
    id: &str,
    email: Option<&str>,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(users::table.find(id))
        .set((
            users::pending_recovery_email.eq(email),
            users::updated_at.eq(at),
        ))
        .execute(conn)
}

/// The pending address becomes the confirmed recovery address.
pub fn confirm_recovery_email(
    conn: &mut DbConnection,
    id: &str,
    email: &str,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(users::table.find(id))
        .set((
            users::recovery_email.eq(Some(email)),
            users::recovery_email_verified_at.eq(Some(at)),
            users::pending_recovery_email.eq(None::<String>),
            users::updated_at.eq(at),
        ))
        .execute(conn)
}
