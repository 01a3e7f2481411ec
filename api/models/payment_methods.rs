//! Saved payment methods. Of a card only the provider's token, brand, last four digits and
//! expiry are kept; never its number.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::db::schema::{organizations, payment_methods};
use crate::domain::billing_states::MethodType;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = payment_methods)]
pub struct PaymentMethod {
    pub id: String,
    pub organization_id: String,
    #[diesel(column_name = type_, deserialize_as = String, serialize_as = String)]
    pub kind: MethodType,
    pub label: String,
    pub card_brand: Option<String>,
    pub card_last4: Option<String>,
    pub card_exp_month: Option<i32>,
    pub card_exp_year: Option<i32>,
    pub iban: Option<String>,
    pub gateway_token: Option<String>,
    pub created_at: NaiveDateTime,
    pub deleted_at: Option<NaiveDateTime>,
}

pub fn insert(conn: &mut DbConnection, m: &PaymentMethod) -> QueryResult<usize> {
    diesel::insert_into(payment_methods::table)
        .values(m.clone())
        .execute(conn)
}

pub fn find(conn: &mut DbConnection, org_id: &str, id: &str) -> QueryResult<Option<PaymentMethod>> {
    payment_methods::table
        .find(id)
        .filter(payment_methods::organization_id.eq(org_id))
        .filter(payment_methods::deleted_at.is_null())
        .select(PaymentMethod::as_select())
        .first(conn)
        .optional()
}

/// The organisation's saved methods, oldest first.
pub fn list(conn: &mut DbConnection, org_id: &str) -> QueryResult<Vec<PaymentMethod>> {
    payment_methods::table
        .filter(payment_methods::organization_id.eq(org_id))
        .filter(payment_methods::deleted_at.is_null())
        .order((payment_methods::created_at, payment_methods::id))
        .select(PaymentMethod::as_select())
        .load(conn)
}

pub fn delete(conn: &mut DbConnection, id: &str, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(
        payment_methods::table
            .find(id)
            .filter(payment_methods::deleted_at.is_null()),
    )
    .set(payment_methods::deleted_at.eq(Some(now)))
    .execute(conn)
}

/// Makes `method` (`prepaid` or an id) the organisation's default.
pub fn set_default(
    conn: &mut DbConnection,
    org_id: &str,
    method: Option<&str>,
) -> QueryResult<usize> {
    diesel::update(organizations::table.find(org_id))
        .set(organizations::default_payment_method.eq(method))
        .execute(conn)
}
