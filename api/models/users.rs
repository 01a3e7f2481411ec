use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::db::schema::users;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = users)]
pub struct User {
    pub id: String,
    pub email: String,
    pub email_verified_at: Option<NaiveDateTime>,
    pub password_hash: String,
    pub first_name: String,
    pub last_name: String,
    pub language: String,
    pub timezone: String,
    pub recovery_email: Option<String>,
    pub recovery_email_verified_at: Option<NaiveDateTime>,
    pub pending_recovery_email: Option<String>,
    pub failed_logins: i32,
    pub locked_at: Option<NaiveDateTime>,
    pub lock_after_failed_logins: i32,
    pub notify_on_login_success: bool,
    pub notify_on_login_failure: bool,
    pub totp_secret: Option<String>,
    pub totp_enabled_at: Option<NaiveDateTime>,
    pub totp_last_step: Option<i64>,
    pub password_changed_at: NaiveDateTime,
    pub last_login_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub deleted_at: Option<NaiveDateTime>,
}

impl User {
    pub fn two_factor_enabled(&self) -> bool {
        self.totp_enabled_at.is_some()
    }

    pub fn full_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
    }

    /// Where password resets go: the verified recovery address, else the login address.
    pub fn reset_address(&self) -> &str {
        match (&self.recovery_email, self.recovery_email_verified_at) {
            (Some(recovery), Some(_)) => recovery,
            _ => &self.email,
        }
    }
}

/// The account as every authenticated request loads it, in the same query as its session or
/// token: enough for the caller's rights and for `GET /v1/me`, without a second query.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct CallerUser {
    pub id: String,
    pub email: String,
    pub email_verified_at: Option<NaiveDateTime>,
    pub first_name: String,
    pub last_name: String,
    pub language: String,
    pub timezone: String,
    pub recovery_email: Option<String>,
    pub recovery_email_verified_at: Option<NaiveDateTime>,
    pub pending_recovery_email: Option<String>,
    pub totp_enabled_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

/// Profile fields a user may change.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = users)]
pub struct ProfileChange {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub language: Option<String>,
    pub timezone: Option<String>,
    pub updated_at: Option<NaiveDateTime>,
}

pub fn insert(conn: &mut DbConnection, user: &User) -> QueryResult<usize> {
    diesel::insert_into(users::table).values(user).execute(conn)
}

/// A live (not deleted) account by id.
pub fn find(conn: &mut DbConnection, id: &str) -> QueryResult<Option<User>> {
    users::table
        .find(id)
        .filter(users::deleted_at.is_null())
        .select(User::as_select())
        .first(conn)
        .optional()
}

/// A live account by login email (already normalised).
pub fn find_by_email(conn: &mut DbConnection, email: &str) -> QueryResult<Option<User>> {
    users::table
        .filter(users::email.eq(email))
        .filter(users::deleted_at.is_null())
        .select(User::as_select())
        .first(conn)
        .optional()
}

pub fn update_profile(
    conn: &mut DbConnection,
    id: &str,
    change: &ProfileChange,
) -> QueryResult<usize> {
    diesel::update(users::table.find(id))
        .set(change)
        .execute(conn)
}

/// Takes the account's row lock for the rest of the transaction (`FOR UPDATE` on PostgreSQL; a
/// no-op on SQLite, where `BEGIN IMMEDIATE` already serialises writers). False when it is gone.
pub fn lock(conn: &mut DbConnection, id: &str) -> QueryResult<bool> {
    match conn {
        DbConnection::Postgresql(c) => Ok(users::table
            .find(id)
            .select(users::id)
            .for_update()
            .first::<String>(c)
            .optional()?
            .is_some()),
        DbConnection::Sqlite(_) => Ok(true),
    }
}

/// A new sign-up attempt on an account never verified: everything the account holds is replaced
/// by the attempt's (password, names, language, zone) or set back to what a new account has
/// (lock state, alerts, second factor, recovery address). Id, address and creation stay. Only an
/// unverified account changes; returns the number of rows changed.
/// Whether the account's sign-up replaced an earlier attempt on its address (`replace_unverified`).
pub fn signup_replaced(conn: &mut DbConnection, id: &str) -> QueryResult<bool> {
    users::table
        .find(id)
        .select(users::signup_replaced)
        .first(conn)
}

pub fn replace_unverified(conn: &mut DbConnection, id: &str, attempt: &User) -> QueryResult<usize> {
    diesel::update(
        users::table
            .find(id)
            .filter(users::email_verified_at.is_null())
            .filter(users::deleted_at.is_null()),
    )
    .set((
        (
            users::password_hash.eq(&attempt.password_hash),
            users::first_name.eq(&attempt.first_name),
            users::last_name.eq(&attempt.last_name),
            users::language.eq(&attempt.language),
            users::timezone.eq(&attempt.timezone),
            users::password_changed_at.eq(attempt.password_changed_at),
            users::updated_at.eq(attempt.updated_at),
            users::signup_replaced.eq(true),
        ),
        (
            users::recovery_email.eq(None::<String>),
            users::recovery_email_verified_at.eq(None::<NaiveDateTime>),
            users::pending_recovery_email.eq(None::<String>),
            users::failed_logins.eq(0),
            users::locked_at.eq(None::<NaiveDateTime>),
            users::lock_after_failed_logins.eq(attempt.lock_after_failed_logins),
            users::notify_on_login_success.eq(attempt.notify_on_login_success),
            users::notify_on_login_failure.eq(attempt.notify_on_login_failure),
            users::totp_secret.eq(None::<String>),
            users::totp_enabled_at.eq(None::<NaiveDateTime>),
            users::totp_last_step.eq(None::<i64>),
        ),
    ))
    .execute(conn)
}

pub fn mark_email_verified(
    conn: &mut DbConnection,
    id: &str,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        users::table
            .find(id)
            .filter(users::email_verified_at.is_null()),
    )
    .set((
        users::email_verified_at.eq(Some(at)),
        users::updated_at.eq(at),
    ))
    .execute(conn)
}

/// After a successful login: the failure count starts again.
pub fn record_login(conn: &mut DbConnection, id: &str, at: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(users::table.find(id))
        .set((
            users::failed_logins.eq(0),
            users::last_login_at.eq(Some(at)),
        ))
        .execute(conn)
}

/// Counts one failed attempt and locks the account at its threshold. Returns the new count and
/// whether this attempt locked it.
pub fn record_failed_login(
    conn: &mut DbConnection,
    id: &str,
    at: NaiveDateTime,
) -> QueryResult<(i32, bool)> {
    diesel::update(users::table.find(id))
        .set(users::failed_logins.eq(users::failed_logins + 1))
        .execute(conn)?;
    let (count, threshold, locked_at): (i32, i32, Option<NaiveDateTime>) = users::table
        .find(id)
        .select((
            users::failed_logins,
            users::lock_after_failed_logins,
            users::locked_at,
        ))
        .first(conn)?;
    if locked_at.is_none() && count >= threshold {
        diesel::update(users::table.find(id))
            .set(users::locked_at.eq(Some(at)))
            .execute(conn)?;
        return Ok((count, true));
    }
    Ok((count, false))
}

pub fn unlock(conn: &mut DbConnection, id: &str) -> QueryResult<usize> {
    diesel::update(users::table.find(id))
        .set((
            users::locked_at.eq(None::<NaiveDateTime>),
            users::failed_logins.eq(0),
        ))
        .execute(conn)
}

/// The account as a caller sees it (for operator commands acting as a user).
pub fn find_caller(conn: &mut DbConnection, id: &str) -> QueryResult<Option<CallerUser>> {
    users::table
        .find(id)
        .filter(users::deleted_at.is_null())
        .select(CallerUser::as_select())
        .first(conn)
        .optional()
}
