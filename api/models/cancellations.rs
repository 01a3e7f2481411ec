//! Cancellations of products (R43–R46; the table of migration `000012_product_lifecycle`, its
//! link column from `000015_cancellation_links`): `requested` until confirmed through the mailed
//! link, then `confirmed` (effective at `effective_at`), or `withdrawn`. Every move is a
//! compare-and-set on the status, so a link used twice at once confirms once.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::db::schema::{cancellations, products};
use crate::domain::billing_states::{CancellationStatus, CancellationWhen, ProductStatus};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = cancellations)]
pub struct Cancellation {
    pub id: String,
    pub organization_id: String,
    pub product_id: String,
    pub requested_by: String,
    #[diesel(deserialize_as = String, serialize_as = String)]
    pub effective: CancellationWhen,
    pub reason: Option<String>,
    #[diesel(deserialize_as = String, serialize_as = String)]
    pub status: CancellationStatus,
    pub created_at: NaiveDateTime,
    pub confirmed_at: Option<NaiveDateTime>,
    pub effective_at: Option<NaiveDateTime>,
    pub withdrawn_at: Option<NaiveDateTime>,
    /// The hash of the confirmation link's secret (a `one_time_tokens` row of purpose
    /// `cancellation`).
    pub link_token_hash: Option<String>,
}

pub fn insert(conn: &mut DbConnection, c: &Cancellation) -> QueryResult<usize> {
    diesel::insert_into(cancellations::table)
        .values(c.clone())
        .execute(conn)
}

/// What `link_token_hash` keeps of a link's secret.
pub fn link_hash(secret: &str) -> String {
    crate::auth::secrets::hash(secret)
}

/// The cancellation a confirmation link (its secret) was mailed for.
pub fn find_by_link(conn: &mut DbConnection, secret: &str) -> QueryResult<Option<Cancellation>> {
    cancellations::table
        .filter(cancellations::link_token_hash.eq(link_hash(secret)))
        .select(Cancellation::as_select())
        .first(conn)
        .optional()
}

/// The product's live cancellation: a `requested` or `confirmed` one, newest first (a product
/// has at most one confirmed).
pub fn live_of_product(
    conn: &mut DbConnection,
    product_id: &str,
) -> QueryResult<Vec<Cancellation>> {
    let live = [
        CancellationStatus::Requested.as_str(),
        CancellationStatus::Confirmed.as_str(),
    ];
    cancellations::table
        .filter(cancellations::product_id.eq(product_id))
        .filter(cancellations::status.eq_any(live))
        .order((cancellations::created_at.desc(), cancellations::id.desc()))
        .select(Cancellation::as_select())
        .load(conn)
}

/// Moves a cancellation from `requested` to `confirmed`, effective at `effective_at`; false when
/// it was no longer `requested`.
pub fn confirm(
    conn: &mut DbConnection,
    id: &str,
    effective_at: NaiveDateTime,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    diesel::update(
        cancellations::table
            .find(id)
            .filter(cancellations::status.eq(CancellationStatus::Requested.as_str())),
    )
    .set((
        cancellations::status.eq(CancellationStatus::Confirmed.as_str()),
        cancellations::confirmed_at.eq(Some(now)),
        cancellations::effective_at.eq(Some(effective_at)),
    ))
    .execute(conn)
    .map(|n| n == 1)
}

/// Withdraws a cancellation still `from`; false when it had moved on.
pub fn withdraw(
    conn: &mut DbConnection,
    id: &str,
    from: CancellationStatus,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    diesel::update(
        cancellations::table
            .find(id)
            .filter(cancellations::status.eq(from.as_str())),
    )
    .set((
        cancellations::status.eq(CancellationStatus::Withdrawn.as_str()),
        cancellations::withdrawn_at.eq(Some(now)),
    ))
    .execute(conn)
    .map(|n| n == 1)
}

/// The confirmed cancellations now due (`effective_at <= now`) whose product still waits for it
/// (`cancellation_pending`), oldest first, at most `limit`.
pub fn due(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<Cancellation>> {
    cancellations::table
        .inner_join(products::table.on(products::id.eq(cancellations::product_id)))
        .filter(cancellations::status.eq(CancellationStatus::Confirmed.as_str()))
        .filter(cancellations::effective_at.le(now))
        .filter(products::status.eq(ProductStatus::CancellationPending.as_str()))
        .order((cancellations::effective_at, cancellations::id))
        .limit(limit)
        .select(Cancellation::as_select())
        .load(conn)
}
