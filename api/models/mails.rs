//! The mail outbox: a mail is rendered and stored in the transaction of the change that causes
//! it; a `deliver_mail` job sends it.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::db::schema::mails;

pub use crate::domain::account_states::MailStatus;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = mails)]
pub struct Mail {
    pub id: String,
    pub template: String,
    pub language: String,
    pub to_address: String,
    pub subject: String,
    pub text_body: String,
    pub html_body: String,
    #[diesel(deserialize_as = String, serialize_as = String)]
    pub status: MailStatus,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
    pub sent_at: Option<NaiveDateTime>,
    /// The documents attached (JSON list of `mail::Attachment`), rendered at delivery.
    pub attachments: Option<String>,
}

pub fn insert(conn: &mut DbConnection, mail: &Mail) -> QueryResult<usize> {
    diesel::insert_into(mails::table)
        .values(mail.clone())
        .execute(conn)
}

pub fn find(conn: &mut DbConnection, id: &str) -> QueryResult<Option<Mail>> {
    mails::table
        .find(id)
        .select(Mail::as_select())
        .first(conn)
        .optional()
}

pub fn mark_sent(conn: &mut DbConnection, id: &str, at: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(mails::table.find(id))
        .set((
            mails::status.eq(MailStatus::Sent.as_str()),
            mails::sent_at.eq(Some(at)),
            mails::attempts.eq(mails::attempts + 1),
        ))
        .execute(conn)
}

pub fn record_failure(conn: &mut DbConnection, id: &str, error: &str) -> QueryResult<usize> {
    diesel::update(mails::table.find(id))
        .set((
            mails::attempts.eq(mails::attempts + 1),
            mails::last_error.eq(Some(error.chars().take(2000).collect::<String>())),
        ))
        .execute(conn)
}

pub fn mark_failed(conn: &mut DbConnection, id: &str) -> QueryResult<usize> {
    diesel::update(mails::table.find(id))
        .set(mails::status.eq(MailStatus::Failed.as_str()))
        .execute(conn)
}

/// Mails not delivered, by status (pending, failed).
pub fn undelivered_counts(conn: &mut DbConnection) -> QueryResult<Vec<(MailStatus, i64)>> {
    let rows: Vec<(String, i64)> = mails::table
        .filter(mails::status.ne(MailStatus::Sent.as_str()))
        .group_by(mails::status)
        .select((mails::status, diesel::dsl::count_star()))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(s, n)| MailStatus::parse(&s).map(|s| (s, n)))
        .collect())
}

/// Erases every mail to these addresses, sent or not (an erased account's mail must not leave,
/// nor stay readable). Their delivery jobs then find nothing to send.
pub fn erase_to(conn: &mut DbConnection, addresses: &[String]) -> QueryResult<usize> {
    diesel::delete(mails::table.filter(mails::to_address.eq_any(addresses))).execute(conn)
}

/// How many mails of `template` went (or wait to go) to `to` since `since`. Served by
/// `mails_recipient_idx` (to_address, template, created_at).
pub fn count_recent(
    conn: &mut DbConnection,
    to: &str,
    template: &str,
    since: NaiveDateTime,
) -> QueryResult<i64> {
    mails::table
        .filter(mails::to_address.eq(to))
        .filter(mails::template.eq(template))
        .filter(mails::created_at.gt(since))
        .count()
        .get_result(conn)
}

/// Forgets the bodies of a mail that carried a secret to be seen only by its recipient (a
/// transfer-out code: a template of `secret_templates`, which the caller passes as
/// `mail::SECRET_TEMPLATES`) once it left or was given up: the outbox keeps it only until
/// delivery. Other mails are untouched.
pub fn redact_secret(
    conn: &mut DbConnection,
    id: &str,
    secret_templates: &[&str],
) -> QueryResult<usize> {
    const REDACTED: &str = "(redacted after delivery: it carried a secret for its recipient only)";
    diesel::update(
        mails::table
            .find(id)
            .filter(mails::template.eq_any(secret_templates)),
    )
    .set((mails::text_body.eq(REDACTED), mails::html_body.eq(REDACTED)))
    .execute(conn)
}
