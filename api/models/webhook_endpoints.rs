//! An organisation's outgoing webhook endpoints. The signing secret is stored readable (every
//! delivery is signed with it, like the TOTP secrets); during a rotation the previous one signs
//! too until `previous_secret_expires_at`.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::db::schema::{webhook_deliveries, webhook_endpoints};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = webhook_endpoints)]
pub struct WebhookEndpoint {
    pub id: String,
    pub organization_id: String,
    pub url: String,
    pub description: String,
    /// A JSON array of event type names.
    pub event_types: String,
    pub enabled: bool,
    pub secret: String,
    pub previous_secret: Option<String>,
    pub previous_secret_expires_at: Option<NaiveDateTime>,
    pub failing_since: Option<NaiveDateTime>,
    pub disabled_reason: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl WebhookEndpoint {
    /// The event type names it subscribes to.
    pub fn event_type_names(&self) -> Vec<String> {
        serde_json::from_str(&self.event_types).unwrap_or_default()
    }

    /// The secrets that sign a delivery at `now`: the current one, and the previous one during
    /// the 24 hours after a rotation.
    pub fn signing_secrets(&self, now: NaiveDateTime) -> Vec<&str> {
        let mut secrets = vec![self.secret.as_str()];
        if let (Some(previous), Some(until)) =
            (&self.previous_secret, self.previous_secret_expires_at)
            && now < until
        {
            secrets.push(previous);
        }
        secrets
    }
}

/// What an update changes (None: unchanged).
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = webhook_endpoints)]
pub struct EndpointChange {
    pub url: Option<String>,
    pub description: Option<String>,
    pub event_types: Option<String>,
    pub enabled: Option<bool>,
    pub failing_since: Option<Option<NaiveDateTime>>,
    pub disabled_reason: Option<Option<String>>,
    pub updated_at: Option<NaiveDateTime>,
}

pub fn insert(conn: &mut DbConnection, e: &WebhookEndpoint) -> QueryResult<usize> {
    diesel::insert_into(webhook_endpoints::table)
        .values(e.clone())
        .execute(conn)
}

pub fn find(
    conn: &mut DbConnection,
    org_id: &str,
    id: &str,
) -> QueryResult<Option<WebhookEndpoint>> {
    webhook_endpoints::table
        .find(id)
        .filter(webhook_endpoints::organization_id.eq(org_id))
        .select(WebhookEndpoint::as_select())
        .first(conn)
        .optional()
}

/// The endpoint `id`, whoever owns it (the delivery job).
pub fn get(conn: &mut DbConnection, id: &str) -> QueryResult<Option<WebhookEndpoint>> {
    webhook_endpoints::table
        .find(id)
        .select(WebhookEndpoint::as_select())
        .first(conn)
        .optional()
}

/// The organisation's endpoints, oldest first after the keyset `after` (created_at, id).
pub fn page(
    conn: &mut DbConnection,
    org_id: &str,
    after: Option<(NaiveDateTime, String)>,
    limit: i64,
) -> QueryResult<Vec<WebhookEndpoint>> {
    let mut query = webhook_endpoints::table
        .filter(webhook_endpoints::organization_id.eq(org_id))
        .select(WebhookEndpoint::as_select())
        .order((webhook_endpoints::created_at, webhook_endpoints::id))
        .limit(limit)
        .into_boxed();
    if let Some((at, id)) = after {
        query = query.filter(
            webhook_endpoints::created_at.ge(at).and(
                webhook_endpoints::created_at
                    .gt(at)
                    .or(webhook_endpoints::id.gt(id)),
            ),
        );
    }
    query.load(conn)
}

/// The organisation's enabled endpoints (the outbox picks those subscribed to an event).
pub fn enabled_of(conn: &mut DbConnection, org_id: &str) -> QueryResult<Vec<WebhookEndpoint>> {
    webhook_endpoints::table
        .filter(webhook_endpoints::organization_id.eq(org_id))
        .filter(webhook_endpoints::enabled.eq(true))
        .order((webhook_endpoints::created_at, webhook_endpoints::id))
        .select(WebhookEndpoint::as_select())
        .load(conn)
}

/// How many endpoints the organisation has.
pub fn count(conn: &mut DbConnection, org_id: &str) -> QueryResult<i64> {
    webhook_endpoints::table
        .filter(webhook_endpoints::organization_id.eq(org_id))
        .count()
        .get_result(conn)
}

pub fn update(conn: &mut DbConnection, id: &str, change: &EndpointChange) -> QueryResult<usize> {
    diesel::update(webhook_endpoints::table.find(id))
        .set(change)
        .execute(conn)
}

/// A new secret; the current one keeps signing until `previous_until`.
pub fn rotate(
    conn: &mut DbConnection,
    id: &str,
    secret: &str,
    previous: &str,
    previous_until: NaiveDateTime,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(webhook_endpoints::table.find(id))
        .set((
            webhook_endpoints::secret.eq(secret),
            webhook_endpoints::previous_secret.eq(Some(previous)),
            webhook_endpoints::previous_secret_expires_at.eq(Some(previous_until)),
            webhook_endpoints::updated_at.eq(now),
        ))
        .execute(conn)
}

/// Notes a failed attempt: the endpoint has been failing since `failing_since` (kept when
/// already set).
pub fn note_failure(conn: &mut DbConnection, id: &str, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(
        webhook_endpoints::table
            .find(id)
            .filter(webhook_endpoints::failing_since.is_null()),
    )
    .set(webhook_endpoints::failing_since.eq(Some(now)))
    .execute(conn)
}

/// Notes a successful attempt: the endpoint is no longer failing.
pub fn note_success(conn: &mut DbConnection, id: &str) -> QueryResult<usize> {
    diesel::update(
        webhook_endpoints::table
            .find(id)
            .filter(webhook_endpoints::failing_since.is_not_null()),
    )
    .set(webhook_endpoints::failing_since.eq(None::<NaiveDateTime>))
    .execute(conn)
}

/// Disables an enabled endpoint; false when it already was.
pub fn disable(
    conn: &mut DbConnection,
    id: &str,
    reason: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    diesel::update(
        webhook_endpoints::table
            .find(id)
            .filter(webhook_endpoints::enabled.eq(true)),
    )
    .set((
        webhook_endpoints::enabled.eq(false),
        webhook_endpoints::disabled_reason.eq(Some(reason)),
        webhook_endpoints::updated_at.eq(now),
    ))
    .execute(conn)
    .map(|n| n == 1)
}

/// Deletes an endpoint and its deliveries.
pub fn delete(conn: &mut DbConnection, id: &str) -> QueryResult<usize> {
    diesel::delete(webhook_deliveries::table.filter(webhook_deliveries::endpoint_id.eq(id)))
        .execute(conn)?;
    diesel::delete(webhook_endpoints::table.find(id)).execute(conn)
}

/// Deletes an organisation's endpoints and their deliveries (the organisation's purge).
pub fn purge_organization(conn: &mut DbConnection, org_id: &str) -> QueryResult<()> {
    diesel::delete(
        webhook_deliveries::table.filter(webhook_deliveries::organization_id.eq(org_id)),
    )
    .execute(conn)?;
    diesel::delete(webhook_endpoints::table.filter(webhook_endpoints::organization_id.eq(org_id)))
        .execute(conn)?;
    Ok(())
}
