//! Personal and application tokens (`lmn_…`) for apps and integrations: made by a person in a
//! recently authenticated session, shown once, stored hashed, narrowed by scopes, revocable.

use chrono::{DateTime, Utc};

use crate::auth::{Caller, secrets};
use crate::db::{self, Pool};
use crate::domain::actor::Origin;
use crate::domain::ids::TokenId;
use crate::domain::page::PageParams;
use crate::domain::page::cursor;
use crate::domain::scopes::{self, Scope};
use crate::domain::{self, Checks};
use crate::error::AppError;
use crate::models::api_tokens::{self, ApiToken};
use crate::services::activity::{self, Event};

/// How many characters of a secret are kept in clear, to recognise it in a list.
pub const PREFIX_CHARS: usize = 8;

pub struct NewToken {
    pub name: String,
    /// `application` or `personal`.
    pub kind: &'static str,
    pub scopes: Vec<String>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// Creates a token for the caller, who must be a person who authenticated recently (so a token
/// can never make another). Returns the stored row and the secret, which is not kept.
pub async fn create(
    pool: &Pool,
    meta: Origin,
    caller: Caller,
    input: NewToken,
) -> Result<(ApiToken, String), AppError> {
    caller.require_recent_auth()?;
    let now = db::now();
    let mut checks = Checks::default();
    let name = checks.check(domain::parse_name(&input.name, "/name"));
    let scopes = match scopes::parse_scopes(&input.scopes, "/scopes") {
        Ok(scopes) => Some(scopes),
        Err(errors) => {
            checks.errors.extend(errors);
            None
        }
    };
    let expires_at = input.expires_at.map(|t| db::truncate(t.naive_utc()));
    if expires_at.is_some_and(|t| t <= now) {
        checks.errors.push(crate::error::FieldError {
            field: "/expires_at".into(),
            code: "not_in_future".into(),
            message: "must be in the future".into(),
        });
    }
    checks.finish()?;
    let (Some(name), Some(scopes)) = (name, scopes) else {
        return Err(AppError::internal("checked fields missing"));
    };
    let secret = secrets::new_secret("lmn_");
    let token = ApiToken {
        id: db::new_id("tok"),
        user_id: caller.user_id.clone(),
        name,
        kind: input.kind.to_string(),
        scopes: Scope::list_to_db(&scopes),
        token_hash: secrets::hash(&secret),
        prefix: secret.chars().take(PREFIX_CHARS).collect(),
        expires_at,
        last_used_at: None,
        created_at: now,
        revoked_at: None,
    };
    let row = token.clone();
    db::run(pool, move |conn| {
        db::write(conn, |c| {
            api_tokens::insert(c, &row)?;
            activity::record(
                c,
                &meta,
                Event::token_created(&caller.user_id, &row, &scopes),
            )?;
            Ok::<_, AppError>(())
        })
    })
    .await?;
    Ok((token, secret))
}

/// A page of the user's tokens (not revoked), newest first, and the cursor of the next page.
pub async fn list(
    pool: &Pool,
    user_id: String,
    page: PageParams,
) -> Result<(Vec<ApiToken>, Option<String>), AppError> {
    let limit = page.limit()?;
    let after = page.cursor.as_deref().map(cursor::decode).transpose()?;
    let mut rows = db::run(pool, move |conn| {
        Ok(api_tokens::list_for_user(conn, &user_id, after, limit + 1)?)
    })
    .await?;
    let next = next_cursor(&mut rows, limit, |t| cursor::encode(t.created_at, &t.id));
    Ok((rows, next))
}

/// Trims a page read with one extra row; the cursor points after the last row kept.
pub fn next_cursor<T>(rows: &mut Vec<T>, limit: i64, key: impl Fn(&T) -> String) -> Option<String> {
    let limit = usize::try_from(limit).unwrap_or(0);
    if rows.len() > limit {
        rows.truncate(limit);
        rows.last().map(key)
    } else {
        None
    }
}

/// Revokes one of the caller's tokens; it stops working on the very next request.
pub async fn revoke(
    pool: &Pool,
    meta: Origin,
    user_id: String,
    token_id: TokenId,
) -> Result<(), AppError> {
    db::run(pool, move |conn| {
        db::write(conn, |c| {
            if !api_tokens::revoke(c, &user_id, &token_id, db::now())? {
                return Err(AppError::not_found("No such token."));
            }
            activity::record(c, &meta, Event::token_revoked(&user_id, &token_id))?;
            Ok(())
        })
    })
    .await
}
