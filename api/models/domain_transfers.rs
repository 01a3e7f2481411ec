//! Transfer-out codes (`domain_transfer_codes`, kept only as SHA-256 hashes) and the reads the
//! transfer-out procedure needs beside `models::domains`.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::db::schema::{domain_transfer_codes, domains};
use crate::domain::domains::DomainStatus;
use crate::models::domains::Domain;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = domain_transfer_codes)]
pub struct TransferCode {
    pub id: String,
    pub domain_id: String,
    /// SHA-256 of the code (`auth::secrets::hash`); the code itself is never stored.
    pub code_hash: String,
    /// The user who asked.
    pub requested_by: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub voided_at: Option<NaiveDateTime>,
    /// Where the code was mailed, masked (`o•••@example.ch`).
    pub recipient: Option<String>,
}

pub fn insert(conn: &mut DbConnection, code: &TransferCode) -> QueryResult<usize> {
    diesel::insert_into(domain_transfer_codes::table)
        .values(code)
        .execute(conn)
}

/// Voids every live code of a domain (R50: a new one replaces them; a cancelled or completed
/// transfer leaves none). Answers how many.
pub fn void_all(
    conn: &mut DbConnection,
    domain_id: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        domain_transfer_codes::table
            .filter(domain_transfer_codes::domain_id.eq(domain_id))
            .filter(domain_transfer_codes::voided_at.is_null()),
    )
    .set(domain_transfer_codes::voided_at.eq(Some(now)))
    .execute(conn)
}

/// The codes asked for a domain since `since`, oldest first (the daily limit counts them).
pub fn created_since(
    conn: &mut DbConnection,
    domain_id: &str,
    since: NaiveDateTime,
) -> QueryResult<Vec<NaiveDateTime>> {
    domain_transfer_codes::table
        .filter(domain_transfer_codes::domain_id.eq(domain_id))
        .filter(domain_transfer_codes::created_at.gt(since))
        .order(domain_transfer_codes::created_at.asc())
        .select(domain_transfer_codes::created_at)
        .load(conn)
}

/// The latest code asked for a domain, voided or not.
pub fn latest(conn: &mut DbConnection, domain_id: &str) -> QueryResult<Option<TransferCode>> {
    domain_transfer_codes::table
        .filter(domain_transfer_codes::domain_id.eq(domain_id))
        .order((
            domain_transfer_codes::created_at.desc(),
            domain_transfer_codes::id.desc(),
        ))
        .select(TransferCode::as_select())
        .first(conn)
        .optional()
}

/// Our current record of a name the registry speaks of: the live one, else the latest (a poll
/// message may arrive after we already recorded the domain as gone).
pub fn by_name(conn: &mut DbConnection, name: &str) -> QueryResult<Option<Domain>> {
    let live = domains::table
        .filter(domains::name.eq(name))
        .filter(domains::status.eq_any([
            DomainStatus::Active.as_str(),
            DomainStatus::Expired.as_str(),
        ]))
        .select(Domain::as_select())
        .first(conn)
        .optional()?;
    if live.is_some() {
        return Ok(live);
    }
    domains::table
        .filter(domains::name.eq(name))
        .order((domains::updated_at.desc(), domains::id.desc()))
        .select(Domain::as_select())
        .first(conn)
        .optional()
}
