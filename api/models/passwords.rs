//! Password changes and the reset link's token, read before it is used.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{one_time_tokens as tokens, users};
use crate::db::{self, DbConnection};
use crate::models::one_time_tokens::OneTimeToken;

/// The token a link carries, if it is valid for `purpose`, unused and unexpired, without using
/// it (so a request refused for another reason leaves the link working).
pub fn find_usable_token(
    conn: &mut DbConnection,
    secret: &str,
    purpose: crate::domain::account_states::LinkPurpose,
) -> QueryResult<Option<OneTimeToken>> {
    tokens::table
        .filter(tokens::token_hash.eq(crate::auth::secrets::hash(secret)))
        .filter(tokens::purpose.eq(purpose.as_str()))
        .filter(tokens::used_at.is_null())
        .filter(tokens::expires_at.gt(db::now()))
        .select(OneTimeToken::as_select())
        .first(conn)
        .optional()
}

/// Stores a new password hash.
pub fn set_password(
    conn: &mut DbConnection,
    id: &str,
    hash: &str,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(users::table.find(id))
        .set((
            users::password_hash.eq(hash),
            users::password_changed_at.eq(at),
            users::updated_at.eq(at),
        ))
        .execute(conn)
}
