//! The connection log: the caller's signed-in devices (active sessions), and ending them.

use crate::auth::Caller;
use crate::db::{self, Pool};
use crate::domain::account_states::SessionEndReason;
use crate::domain::actor::Origin;
use crate::domain::ids::SessionId;
use crate::error::AppError;
use crate::models::sessions::{self, Session};
use crate::services::activity::{self, Event};
use crate::services::sessions::end_session;

/// The caller's active sessions, newest first (the caller's own one is `caller.session_id()`).
pub async fn list(pool: &Pool, caller: &Caller) -> Result<Vec<Session>, AppError> {
    let user_id = caller.user_id.clone();
    db::run(pool, move |conn| Ok(sessions::list_active(conn, &user_id)?)).await
}

fn no_such_session() -> AppError {
    AppError::not_found("No such session.")
}

/// Ends one active session of the caller (it may be the current one). Another user's session,
/// an ended or expired one, or an unknown id: 404, and nothing changes.
pub async fn end_one(
    pool: &Pool,
    meta: Origin,
    caller: Caller,
    session_id: SessionId,
) -> Result<(), AppError> {
    db::run(pool, move |conn| {
        db::write(conn, |c| {
            let session = sessions::find(c, &session_id)?
                .filter(|s| {
                    s.user_id == caller.user_id && s.ended_at.is_none() && s.expires_at > db::now()
                })
                .ok_or_else(no_such_session)?;
            if end_session(
                c,
                &meta,
                &caller.user_id,
                &session.id,
                SessionEndReason::EndedFromConnectionLog,
            )? {
                Ok(())
            } else {
                Err(no_such_session())
            }
        })
    })
    .await
}

/// Ends every active session of the caller but the current one (a token caller, having none,
/// ends them all). One activity record carries the count. Returns the count.
pub async fn end_others(pool: &Pool, meta: Origin, caller: Caller) -> Result<usize, AppError> {
    db::run(pool, move |conn| {
        db::write(conn, |c| {
            let keep = caller.session_id();
            let count = sessions::end_all_for_user(c, &caller.user_id, keep, db::now())?;
            activity::record(
                c,
                &meta,
                Event::sessions_ended_others(&caller.user_id, count, keep),
            )?;
            Ok(count)
        })
    })
    .await
}
