//! Newsletter subscriptions (R8): the user picks topics from the catalogue, one by one.

use crate::auth::Caller;
use crate::db::{self, Pool};
use crate::domain::actor::Origin;
use crate::domain::newsletters::{self, TOPICS};
use crate::error::AppError;
use crate::models::newsletter_subscriptions;
use crate::services::activity::{self, Event};

/// Catalogue order, ignoring anything no longer in the catalogue.
fn ordered(stored: &[String]) -> Vec<String> {
    TOPICS
        .iter()
        .filter(|t| stored.iter().any(|s| s == t.id))
        .map(|t| t.id.to_string())
        .collect()
}

/// The topics the user receives, in catalogue order.
pub async fn subscriptions(pool: &Pool, user_id: String) -> Result<Vec<String>, AppError> {
    let stored = db::run(pool, move |conn| {
        Ok(newsletter_subscriptions::topics(conn, &user_id)?)
    })
    .await?;
    Ok(ordered(&stored))
}

/// Replaces the set of topics the user receives; returns the new set, in catalogue order.
pub async fn replace(
    pool: &Pool,
    meta: Origin,
    caller: Caller,
    topics: Vec<String>,
) -> Result<Vec<String>, AppError> {
    let wanted = newsletters::parse_topics(&topics, "/topics").map_err(AppError::validation)?;
    let result: Vec<String> = wanted.iter().map(|t| t.to_string()).collect();
    db::run(pool, move |conn| {
        db::write(conn, |c| {
            let (added, removed) =
                newsletter_subscriptions::replace(c, &caller.user_id, &wanted, db::now())?
                    .ok_or_else(|| {
                        crate::auth::caller::unauthenticated("The account no longer exists.")
                    })?;
            activity::record(
                c,
                &meta,
                Event::newsletters_updated(
                    &caller.user_id,
                    &wanted,
                    &ordered(&added),
                    &ordered(&removed),
                ),
            )?;
            Ok::<_, AppError>(())
        })
    })
    .await?;
    Ok(result)
}
