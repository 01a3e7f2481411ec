//! A user's sign-in protection: login alerts and the lock threshold (columns of `users`).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::db::schema::users;

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, AsChangeset)]
#[diesel(table_name = users)]
pub struct SecuritySettings {
    pub notify_on_login_success: bool,
    pub notify_on_login_failure: bool,
    pub lock_after_failed_logins: i32,
}

/// The settings of a live account.
pub fn find(conn: &mut DbConnection, user_id: &str) -> QueryResult<Option<SecuritySettings>> {
    users::table
        .find(user_id)
        .filter(users::deleted_at.is_null())
        .select(SecuritySettings::as_select())
        .first(conn)
        .optional()
}

/// Replaces all three settings.
pub fn replace(
    conn: &mut DbConnection,
    user_id: &str,
    settings: &SecuritySettings,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        users::table
            .find(user_id)
            .filter(users::deleted_at.is_null()),
    )
    .set((settings, users::updated_at.eq(at)))
    .execute(conn)
}
