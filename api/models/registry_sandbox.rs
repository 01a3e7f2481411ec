//! The sandbox registry's own records (migration `000018_domains`): registrations, their auth
//! codes as salted hashes, transfers, the poll queue per registrar and the sandbox's clock. Only
//! `registry::sandbox` uses this module, as a registry's database is its own.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::db::schema::{registry_clock, registry_domains, registry_messages};

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = registry_domains, treat_none_as_null = true)]
pub struct RegistryRow {
    pub name: String,
    pub registrar: String,
    /// A JSON array of EPP statuses.
    pub statuses: String,
    /// The contacts as JSON.
    pub contacts: String,
    pub owner_email: String,
    pub privacy: bool,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    /// `salt$sha256hex`.
    pub auth_code_hash: Option<String>,
    pub auth_code_expires_at: Option<NaiveDateTime>,
    pub transfer_status: Option<String>,
    pub transfer_gaining_registrar: Option<String>,
    pub transfer_requested_at: Option<NaiveDateTime>,
    pub transfer_act_at: Option<NaiveDateTime>,
    pub last_transferred_at: Option<NaiveDateTime>,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = registry_messages)]
pub struct MessageRow {
    pub id: String,
    pub registrar: String,
    pub domain_name: String,
    pub kind: String,
    pub status: String,
    pub gaining_registrar: Option<String>,
    pub created_at: NaiveDateTime,
    pub acked_at: Option<NaiveDateTime>,
}

pub fn find(conn: &mut DbConnection, name: &str) -> QueryResult<Option<RegistryRow>> {
    registry_domains::table
        .find(name)
        .select(RegistryRow::as_select())
        .first(conn)
        .optional()
}

/// Inserts a registration; `false` if the name is registered already.
pub fn insert(conn: &mut DbConnection, row: &RegistryRow) -> QueryResult<bool> {
    let inserted = crate::db::write(conn, |c| {
        diesel::insert_into(registry_domains::table)
            .values(row)
            .execute(c)
    });
    match inserted {
        Ok(_) => Ok(true),
        Err(e) if crate::db::is_unique_violation(&e) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Writes back a registration read with `find` if it still has `updated_at` as read
/// (compare-and-set: two calls racing cannot both apply).
pub fn save(
    conn: &mut DbConnection,
    row: &RegistryRow,
    read_at: NaiveDateTime,
) -> QueryResult<bool> {
    let n = diesel::update(
        registry_domains::table
            .find(&row.name)
            .filter(registry_domains::updated_at.eq(read_at)),
    )
    .set(row)
    .execute(conn)?;
    Ok(n == 1)
}

/// Pending transfers due for approval by `now`.
pub fn transfers_due(conn: &mut DbConnection, now: NaiveDateTime) -> QueryResult<Vec<RegistryRow>> {
    registry_domains::table
        .filter(registry_domains::transfer_status.eq("pending"))
        .filter(registry_domains::transfer_act_at.le(now))
        .select(RegistryRow::as_select())
        .load(conn)
}

pub fn push_message(conn: &mut DbConnection, m: &MessageRow) -> QueryResult<()> {
    diesel::insert_into(registry_messages::table)
        .values(m)
        .execute(conn)
        .map(|_| ())
}

/// The registrar's oldest unacknowledged message.
pub fn oldest_message(conn: &mut DbConnection, registrar: &str) -> QueryResult<Option<MessageRow>> {
    registry_messages::table
        .filter(registry_messages::registrar.eq(registrar))
        .filter(registry_messages::acked_at.is_null())
        .order((registry_messages::created_at, registry_messages::id))
        .select(MessageRow::as_select())
        .first(conn)
        .optional()
}

/// Acknowledges a message of `registrar`; `false` if there is no such unacknowledged message.
pub fn ack(
    conn: &mut DbConnection,
    registrar: &str,
    id: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let n = diesel::update(
        registry_messages::table
            .find(id)
            .filter(registry_messages::registrar.eq(registrar))
            .filter(registry_messages::acked_at.is_null()),
    )
    .set(registry_messages::acked_at.eq(Some(now)))
    .execute(conn)?;
    Ok(n == 1)
}

/// The sandbox clock's offset from the real one, in seconds.
pub fn clock_offset(conn: &mut DbConnection) -> QueryResult<i64> {
    Ok(registry_clock::table
        .find(1)
        .select(registry_clock::offset_seconds)
        .first(conn)
        .optional()?
        .unwrap_or(0))
}

/// Moves the sandbox clock on by `seconds`.
pub fn advance_clock(conn: &mut DbConnection, seconds: i64) -> QueryResult<i64> {
    let current = clock_offset(conn)?;
    let next = current + seconds;
    let n = diesel::update(registry_clock::table.find(1))
        .set(registry_clock::offset_seconds.eq(next))
        .execute(conn)?;
    if n == 0 {
        diesel::insert_into(registry_clock::table)
            .values((
                registry_clock::id.eq(1),
                registry_clock::offset_seconds.eq(next),
            ))
            .execute(conn)?;
    }
    Ok(next)
}
