use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::db::schema::signing_keys;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = signing_keys)]
pub struct SigningKey {
    pub kid: String,
    pub secret: String,
    pub created_at: NaiveDateTime,
}

/// Newest first: the newest key signs, all verify.
pub fn all(conn: &mut DbConnection) -> QueryResult<Vec<SigningKey>> {
    signing_keys::table
        .select(SigningKey::as_select())
        .order((signing_keys::created_at.desc(), signing_keys::kid.desc()))
        .load(conn)
}

pub fn insert(conn: &mut DbConnection, key: &SigningKey) -> QueryResult<usize> {
    diesel::insert_into(signing_keys::table)
        .values(key)
        .execute(conn)
}
