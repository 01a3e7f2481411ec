//! The user's own profile.

use crate::auth::Caller;
use crate::db::{self, Pool};
use crate::domain::actor::Origin;
use crate::domain::{self, Checks};
use crate::error::AppError;
use crate::models::users::{self, ProfileChange, User};
use crate::services::activity::{self, Event};

pub struct ProfileInput {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub language: Option<String>,
    pub timezone: Option<String>,
}

pub async fn update(
    pool: &Pool,
    meta: Origin,
    caller: Caller,
    input: ProfileInput,
) -> Result<User, AppError> {
    let mut checks = Checks::default();
    let change = ProfileChange {
        first_name: input
            .first_name
            .as_deref()
            .and_then(|v| checks.check(domain::parse_name(v, "/first_name"))),
        last_name: input
            .last_name
            .as_deref()
            .and_then(|v| checks.check(domain::parse_name(v, "/last_name"))),
        language: input
            .language
            .as_deref()
            .and_then(|v| checks.check(domain::parse_language(v, "/language"))),
        timezone: input.timezone.as_deref().and_then(|v| {
            checks
                .check(domain::parse_timezone(v, "/timezone"))
                .map(|tz| tz.name().to_string())
        }),
        updated_at: Some(db::now()),
    };
    checks.finish()?;
    let fields: Vec<&str> = [
        ("first_name", &change.first_name),
        ("last_name", &change.last_name),
        ("language", &change.language),
        ("timezone", &change.timezone),
    ]
    .iter()
    .filter(|(_, v)| v.is_some())
    .map(|(k, _)| *k)
    .collect();
    db::run(pool, move |conn| {
        db::write(conn, |c| {
            users::update_profile(c, &caller.user_id, &change)?;
            activity::record(c, &meta, Event::profile_updated(&caller.user_id, &fields))?;
            users::find(c, &caller.user_id)?.ok_or_else(|| AppError::not_found("No such account."))
        })
    })
    .await
}
