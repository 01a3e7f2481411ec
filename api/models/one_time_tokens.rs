//! Single-use tokens carried by mail links (verify email, reset password, unlock, confirm an
//! address). Only their hash is stored.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::one_time_tokens as tokens;
use crate::db::{self, DbConnection};

pub use crate::domain::account_states::LinkPurpose;
// The former names, for code outside the account area (services::members, tests).
pub const UNLOCK: LinkPurpose = LinkPurpose::Unlock;
pub const CONFIRM_RECOVERY_EMAIL: LinkPurpose = LinkPurpose::ConfirmRecoveryEmail;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = tokens)]
pub struct OneTimeToken {
    pub id: String,
    pub user_id: String,
    #[diesel(deserialize_as = String, serialize_as = String)]
    pub purpose: LinkPurpose,
    pub token_hash: String,
    pub new_email: Option<String>,
    pub expires_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

/// Issues a token for `purpose`, replacing any unused one of the same purpose for this user.
/// Returns the secret to put in the link.
pub fn issue(
    conn: &mut DbConnection,
    user_id: &str,
    purpose: LinkPurpose,
    valid_for: chrono::Duration,
    new_email: Option<&str>,
) -> QueryResult<String> {
    revoke(conn, user_id, purpose)?;
    issue_another(conn, user_id, purpose, valid_for, new_email)
}

/// Issues a token for `purpose` next to any others still unused (two devices signing in at
/// once each keep their own).
pub fn issue_another(
    conn: &mut DbConnection,
    user_id: &str,
    purpose: LinkPurpose,
    valid_for: chrono::Duration,
    new_email: Option<&str>,
) -> QueryResult<String> {
    let now = db::now();
    let secret = crate::auth::secrets::new_secret("");
    let row = OneTimeToken {
        id: db::new_id("ott"),
        user_id: user_id.to_string(),
        purpose,
        token_hash: crate::auth::secrets::hash(&secret),
        new_email: new_email.map(str::to_string),
        expires_at: now + valid_for,
        used_at: None,
        created_at: now,
    };
    diesel::insert_into(tokens::table)
        .values(row)
        .execute(conn)?;
    Ok(secret)
}

/// Uses a token: returns it if it is valid for `purpose`, unused and unexpired, and marks it used
/// (in the caller's transaction). A second use finds nothing.
pub fn consume(
    conn: &mut DbConnection,
    secret: &str,
    purpose: LinkPurpose,
) -> QueryResult<Option<OneTimeToken>> {
    let now = db::now();
    let hash = crate::auth::secrets::hash(secret);
    let found = tokens::table
        .filter(tokens::token_hash.eq(&hash))
        .filter(tokens::purpose.eq(purpose.as_str()))
        .filter(tokens::used_at.is_null())
        .filter(tokens::expires_at.gt(now))
        .select(OneTimeToken::as_select())
        .first(conn)
        .optional()?;
    let Some(token) = found else { return Ok(None) };
    let claimed = diesel::update(
        tokens::table
            .find(&token.id)
            .filter(tokens::used_at.is_null()),
    )
    .set(tokens::used_at.eq(Some(now)))
    .execute(conn)?;
    Ok((claimed == 1).then_some(token))
}

/// Withdraws unused tokens of a purpose (a newer one replaces them, or the request is withdrawn).
pub fn revoke(conn: &mut DbConnection, user_id: &str, purpose: LinkPurpose) -> QueryResult<usize> {
    diesel::delete(
        tokens::table
            .filter(tokens::user_id.eq(user_id))
            .filter(tokens::purpose.eq(purpose.as_str()))
            .filter(tokens::used_at.is_null()),
    )
    .execute(conn)
}

/// Withdraws every unused token of a user, whatever its purpose.
pub fn revoke_every(conn: &mut DbConnection, user_id: &str) -> QueryResult<usize> {
    diesel::delete(
        tokens::table
            .filter(tokens::user_id.eq(user_id))
            .filter(tokens::used_at.is_null()),
    )
    .execute(conn)
}
