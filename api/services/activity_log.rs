//! The activity logs (R13): the user's own (what they did or were subject to) and an
//! organisation's (what anyone did in it), newest first, filtered by day, action type, product
//! and actor, with a text search.

use chrono::{NaiveDate, NaiveDateTime};

use crate::db::{self, Pool};
use crate::domain::events::ActivityKind;
use crate::domain::invalid;
use crate::domain::page::PageParams;
use crate::domain::page::cursor;
use crate::error::{AppError, FieldError};
use crate::models::activities::{self, Activity, ActivityFilter};
use crate::services::tokens::next_cursor;

pub const MAX_VALUES: usize = 20;
pub const MAX_SEARCH_CHARS: usize = 100;

/// The filters as the query string gives them.
#[derive(Debug, Clone, Default)]
pub struct Filters {
    pub from: Option<String>,
    pub to: Option<String>,
    pub actions: Vec<ActivityKind>,
    pub products: Vec<String>,
    pub actors: Vec<String>,
    pub q: Option<String>,
}

fn day(raw: &str, field: &str, errors: &mut Vec<FieldError>) -> Option<NaiveDate> {
    let parsed = NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .ok()
        .filter(|_| raw.len() == 10);
    if parsed.is_none() {
        errors.push(invalid(
            field,
            "invalid_date",
            "must be a day as YYYY-MM-DD",
        ));
    }
    parsed
}

fn start_of(day: NaiveDate) -> NaiveDateTime {
    day.and_hms_opt(0, 0, 0).unwrap_or_default()
}

/// Checks the filters (all errors at once): `from` and `to` are inclusive UTC days.
pub fn parse(filters: Filters) -> Result<ActivityFilter, AppError> {
    let mut errors = Vec::new();
    let from = filters
        .from
        .as_deref()
        .and_then(|f| day(f, "from", &mut errors));
    let to = filters
        .to
        .as_deref()
        .and_then(|t| day(t, "to", &mut errors));
    // `to` before `from` is an empty range: it matches nothing, like any other narrow filter.
    for (field, count) in [
        ("action", filters.actions.len()),
        ("product_id", filters.products.len()),
        ("actor_id", filters.actors.len()),
    ] {
        if count > MAX_VALUES {
            errors.push(invalid(field, "too_many", "at most 20 values"));
        }
    }
    if filters
        .q
        .as_ref()
        .is_some_and(|q| q.chars().count() > MAX_SEARCH_CHARS)
    {
        errors.push(invalid("q", "too_long", "must be at most 100 characters"));
    }
    let search = filters
        .q
        .map(|q| q.trim().to_string())
        .filter(|q| !q.is_empty());
    if !errors.is_empty() {
        return Err(AppError::validation(errors));
    }
    Ok(ActivityFilter {
        from: from.map(start_of),
        before: to.and_then(|t| t.succ_opt()).map(start_of),
        actions: filters
            .actions
            .iter()
            .map(|a| a.as_str().to_string())
            .collect(),
        products: filters.products,
        actors: filters.actors,
        search,
    })
}

/// A page of the user's activity records and the cursor of the next page.
pub async fn list(
    pool: &Pool,
    user_id: String,
    page: PageParams,
    filters: Filters,
) -> Result<(Vec<Activity>, Option<String>), AppError> {
    let limit = page.limit()?;
    let after = page.cursor.as_deref().map(cursor::decode).transpose()?;
    let filter = parse(filters)?;
    let mut rows = db::run(pool, move |conn| {
        Ok(activities::page_for_user(
            conn,
            &user_id,
            &filter,
            after,
            limit + 1,
        )?)
    })
    .await?;
    let next = next_cursor(&mut rows, limit, |a| cursor::encode(a.created_at, &a.id));
    Ok((rows, next))
}

/// A page of what happened in an organisation (for its admins and legal representatives).
pub async fn list_for_organization(
    pool: &Pool,
    org: &crate::services::orgs::OrgRequest,
    page: PageParams,
    filters: Filters,
) -> Result<(Vec<Activity>, Option<String>), AppError> {
    let access = org.access(pool).await?;
    let limit = page.limit()?;
    let after = page.cursor.as_deref().map(cursor::decode).transpose()?;
    let filter = parse(filters)?;
    let mut rows = db::run(pool, move |conn| {
        Ok(activities::page_for_organization(
            conn,
            &access.org.id,
            &filter,
            after,
            limit + 1,
        )?)
    })
    .await?;
    let next = next_cursor(&mut rows, limit, |a| cursor::encode(a.created_at, &a.id));
    Ok((rows, next))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_inclusive_and_checked() {
        let f = parse(Filters {
            from: Some("2026-11-01".into()),
            to: Some("2026-11-30".into()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(f.from.unwrap().to_string(), "2026-11-01 00:00:00");
        assert_eq!(f.before.unwrap().to_string(), "2026-12-01 00:00:00");
        let one_day = parse(Filters {
            from: Some("2026-11-26".into()),
            to: Some("2026-11-26".into()),
            ..Default::default()
        });
        assert!(one_day.is_ok());
        let empty = parse(Filters {
            from: Some("2026-11-30".into()),
            to: Some("2026-11-01".into()),
            ..Default::default()
        })
        .unwrap();
        assert!(empty.before.unwrap() < empty.from.unwrap());
        for bad in [
            "2026-13-01",
            "26-11-01",
            "2026-11-1",
            "yesterday",
            "2026-11-01T00:00:00Z",
        ] {
            let e = parse(Filters {
                from: Some(bad.into()),
                ..Default::default()
            })
            .unwrap_err();
            assert_eq!(e.errors[0].field, "from", "{bad}");
        }
    }

    #[test]
    fn searches_and_value_lists_are_bounded() {
        assert!(
            parse(Filters {
                q: Some("  ".into()),
                ..Default::default()
            })
            .unwrap()
            .search
            .is_none()
        );
        assert!(
            parse(Filters {
                q: Some("x".repeat(101)),
                ..Default::default()
            })
            .is_err()
        );
        assert!(
            parse(Filters {
                actions: vec![ActivityKind::LoginFailed; 21],
                ..Default::default()
            })
            .is_err()
        );
    }
}
