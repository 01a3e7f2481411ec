//! The prepaid account: a balance row per organisation and its append-only ledger. Every
//! movement updates the balance with a guarded `UPDATE` (never below zero, never above the
//! ceiling) and appends its ledger row in the same transaction, so the ledger always sums to
//! the balance; the row lock queues concurrent movements of one organisation.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::db::schema::{prepaid_accounts, prepaid_transactions};
use crate::domain::billing_states::PrepaidTransactionKind;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = prepaid_transactions)]
pub struct PrepaidTransaction {
    pub id: String,
    pub organization_id: String,
    #[diesel(deserialize_as = String, serialize_as = String)]
    pub kind: PrepaidTransactionKind,
    /// Signed: money in is positive, money out negative.
    pub amount_minor: i64,
    pub balance_after_minor: i64,
    pub currency: String,
    pub payment_id: Option<String>,
    pub invoice_id: Option<String>,
    pub iban: Option<String>,
    pub created_by: Option<String>,
    pub created_at: NaiveDateTime,
}

/// The balance in minor units (0 when the account was never used).
pub fn balance(conn: &mut DbConnection, org_id: &str) -> QueryResult<i64> {
    Ok(prepaid_accounts::table
        .find(org_id)
        .select(prepaid_accounts::balance_minor)
        .first(conn)
        .optional()?
        .unwrap_or(0))
}

/// The balance in minor units and its currency (`None` when the account was never used).
pub fn held(conn: &mut DbConnection, org_id: &str) -> QueryResult<Option<(i64, String)>> {
    prepaid_accounts::table
        .find(org_id)
        .select((prepaid_accounts::balance_minor, prepaid_accounts::currency))
        .first(conn)
        .optional()
}

/// Creates the organisation's account row if missing and locks it until the transaction ends
/// (a no-op update: a row lock on PostgreSQL; SQLite's write transaction is exclusive already),
/// so checks that read more than the balance (pending top-ups) are not raced.
pub fn lock(
    conn: &mut DbConnection,
    org_id: &str,
    currency: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    ensure_account(conn, org_id, currency, now)?;
    diesel::update(prepaid_accounts::table.find(org_id))
        .set(prepaid_accounts::balance_minor.eq(prepaid_accounts::balance_minor))
        .execute(conn)?;
    Ok(())
}

fn ensure_account(
    conn: &mut DbConnection,
    org_id: &str,
    currency: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::sql_query(
        "INSERT INTO prepaid_accounts (organization_id, currency, balance_minor, updated_at) VALUES ($1, $2, 0, $3) ON CONFLICT (organization_id) DO NOTHING",
    )
    .bind::<diesel::sql_types::Text, _>(org_id)
    .bind::<diesel::sql_types::Text, _>(currency)
    .bind::<diesel::sql_types::Timestamp, _>(now)
    .execute(conn)?;
    Ok(())
}

/// Whether the organisation's prepaid account ever moved (its ledger has a row).
pub fn ever_used(conn: &mut DbConnection, org_id: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        prepaid_transactions::table.filter(prepaid_transactions::organization_id.eq(org_id)),
    ))
    .get_result(conn)
}

/// What became of a movement (`move_balance`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Moved {
    /// Done: the new balance.
    To(i64),
    /// Nothing changed: the balance would leave 0..=ceiling.
    OutOfBounds,
    /// Nothing changed: the account holds money in this other currency, and money never moves
    /// across currencies (the ledger's foreign key to the account's currency holds it too).
    OtherCurrency(String),
}

/// Moves `delta` minor units of `currency` if the account is in that currency and the balance
/// stays within 0..=`ceiling` (a guarded `UPDATE`: the row lock queues concurrent movements).
/// Half of a movement: services call `post`, which appends the ledger row with it.
pub fn move_balance(
    conn: &mut DbConnection,
    org_id: &str,
    currency: &str,
    delta: i64,
    ceiling: i64,
    now: NaiveDateTime,
) -> QueryResult<Moved> {
    ensure_account(conn, org_id, currency, now)?;
    let n = diesel::update(
        prepaid_accounts::table
            .find(org_id)
            .filter(prepaid_accounts::currency.eq(currency))
            .filter((prepaid_accounts::balance_minor + delta).ge(0))
            .filter((prepaid_accounts::balance_minor + delta).le(ceiling)),
    )
    .set((
        prepaid_accounts::balance_minor.eq(prepaid_accounts::balance_minor + delta),
        prepaid_accounts::updated_at.eq(now),
    ))
    .execute(conn)?;
    let (held, balance): (String, i64) = prepaid_accounts::table
        .find(org_id)
        .select((prepaid_accounts::currency, prepaid_accounts::balance_minor))
        .first(conn)?;
    Ok(if n == 1 {
        Moved::To(balance)
    } else if held != currency {
        Moved::OtherCurrency(held)
    } else {
        Moved::OutOfBounds
    })
}

/// The other half of a movement (see `post`).
pub fn append(conn: &mut DbConnection, t: &PrepaidTransaction) -> QueryResult<usize> {
    diesel::insert_into(prepaid_transactions::table)
        .values(t.clone())
        .execute(conn)
}

/// One movement of the prepaid account: its ledger row but the balance after it.
#[derive(Debug, Clone)]
pub struct Posting<'a> {
    pub organization_id: &'a str,
    pub kind: PrepaidTransactionKind,
    /// Signed: money in is positive, money out negative.
    pub amount_minor: i64,
    pub currency: &'a str,
    pub payment_id: Option<&'a str>,
    pub invoice_id: Option<&'a str>,
    pub iban: Option<&'a str>,
    pub created_by: Option<&'a str>,
}

/// The one way money moves in or out of the account: `move_balance` (the account's row lock,
/// never below zero nor above `ceiling`), then the ledger row with the balance after it, so
/// the ledger always sums to the balance. Refused (`Err`: never `Moved::To`), nothing changes.
pub fn post(
    conn: &mut DbConnection,
    posting: &Posting<'_>,
    ceiling: i64,
    now: NaiveDateTime,
) -> QueryResult<Result<PrepaidTransaction, Moved>> {
    let balance = match move_balance(
        conn,
        posting.organization_id,
        posting.currency,
        posting.amount_minor,
        ceiling,
        now,
    )? {
        Moved::To(balance) => balance,
        refused => return Ok(Err(refused)),
    };
    let row = PrepaidTransaction {
        id: crate::db::new_id("ptx"),
        organization_id: posting.organization_id.to_string(),
        kind: posting.kind,
        amount_minor: posting.amount_minor,
        balance_after_minor: balance,
        currency: posting.currency.to_string(),
        payment_id: posting.payment_id.map(str::to_string),
        invoice_id: posting.invoice_id.map(str::to_string),
        iban: posting.iban.map(str::to_string),
        created_by: posting.created_by.map(str::to_string),
        created_at: now,
    };
    append(conn, &row)?;
    Ok(Ok(row))
}

/// The ledger, newest first, after the keyset `before`.
pub fn page(
    conn: &mut DbConnection,
    org_id: &str,
    before: Option<(NaiveDateTime, String)>,
    limit: i64,
) -> QueryResult<Vec<PrepaidTransaction>> {
    let mut query = prepaid_transactions::table
        .filter(prepaid_transactions::organization_id.eq(org_id))
        .select(PrepaidTransaction::as_select())
        .order((
            prepaid_transactions::created_at.desc(),
            prepaid_transactions::id.desc(),
        ))
        .limit(limit)
        .into_boxed();
    if let Some((at, id)) = before {
        query = query.filter(
            prepaid_transactions::created_at.le(at).and(
                prepaid_transactions::created_at
                    .lt(at)
                    .or(prepaid_transactions::id.lt(id)),
            ),
        );
    }
    query.load(conn)
}

/// The ledger's sum (for checks: it always equals the balance).
pub fn ledger_sum(conn: &mut DbConnection, org_id: &str) -> QueryResult<i64> {
    let amounts: Vec<i64> = prepaid_transactions::table
        .filter(prepaid_transactions::organization_id.eq(org_id))
        .select(prepaid_transactions::amount_minor)
        .load(conn)?;
    Ok(amounts.iter().sum())
}

/// One movement of the organisation's ledger.
pub fn find(
    conn: &mut DbConnection,
    org_id: &str,
    id: &str,
) -> QueryResult<Option<PrepaidTransaction>> {
    prepaid_transactions::table
        .find(id)
        .filter(prepaid_transactions::organization_id.eq(org_id))
        .select(PrepaidTransaction::as_select())
        .first(conn)
        .optional()
}

/// The latest credit of the organisation's ledger that `payment_id` brought (a top-up's).
pub fn credit_of_payment(
    conn: &mut DbConnection,
    org_id: &str,
    payment_id: &str,
) -> QueryResult<Option<PrepaidTransaction>> {
    prepaid_transactions::table
        .filter(prepaid_transactions::organization_id.eq(org_id))
        .filter(prepaid_transactions::payment_id.eq(payment_id))
        .filter(prepaid_transactions::amount_minor.gt(0))
        .select(PrepaidTransaction::as_select())
        .order((
            prepaid_transactions::created_at.desc(),
            prepaid_transactions::id.desc(),
        ))
        .first(conn)
        .optional()
}
