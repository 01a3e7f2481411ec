//! The sandbox provider's own log of its charges, by idempotency key (see the migration
//! `000012_product_lifecycle`): a repeated key answers the first charge's outcome, as a real
//! provider's idempotency keys do, and tests count the charges made.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::db::schema::sandbox_charges;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = sandbox_charges)]
pub struct SandboxCharge {
    pub idempotency_key: String,
    pub reference: String,
    /// `approved`, `pending` or `declined:<code>`.
    pub outcome: String,
    pub amount_minor: i64,
    pub currency: String,
    pub created_at: NaiveDateTime,
}

/// Records a charge unless its key is there already; returns the charge on record for the key
/// (this one, or the first).
pub fn record_once(conn: &mut DbConnection, c: &SandboxCharge) -> QueryResult<SandboxCharge> {
    // A savepoint: a repeated key leaves the caller's transaction usable on PostgreSQL.
    let inserted = crate::db::write(conn, |c2| {
        diesel::insert_into(sandbox_charges::table)
            .values(c.clone())
            .execute(c2)
    });
    match inserted {
        Ok(_) => {}
        Err(e) if crate::db::is_unique_violation(&e) => {}
        Err(e) => return Err(e),
    }
    sandbox_charges::table
        .find(&c.idempotency_key)
        .select(SandboxCharge::as_select())
        .first(conn)
}

/// The charge made with `key`, if any.
pub fn find(conn: &mut DbConnection, key: &str) -> QueryResult<Option<SandboxCharge>> {
    sandbox_charges::table
        .find(key)
        .select(SandboxCharge::as_select())
        .first(conn)
        .optional()
}

/// How many charges the sandbox made (every key once).
pub fn count(conn: &mut DbConnection) -> QueryResult<i64> {
    sandbox_charges::table.count().get_result(conn)
}
