//! Payments: of an invoice, or of a top-up of the prepaid account. A partial unique index lets
//! an invoice have at most one payment pending or succeeded, so concurrent payers charge once.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::db::schema::{payments, refunds};
use crate::domain::billing_states::{
    PaymentMethodKind, PaymentPurpose, PaymentStatus, RefundDestination, RefundStatus, failure,
};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = payments)]
pub struct Payment {
    pub id: String,
    pub organization_id: String,
    pub invoice_id: Option<String>,
    #[diesel(deserialize_as = String, serialize_as = String)]
    pub purpose: PaymentPurpose,
    #[diesel(deserialize_as = String, serialize_as = String)]
    pub method: PaymentMethodKind,
    pub payment_method_id: Option<String>,
    pub amount_minor: i64,
    pub currency: String,
    #[diesel(deserialize_as = String, serialize_as = String)]
    pub status: PaymentStatus,
    pub gateway_reference: Option<String>,
    pub failure_code: Option<String>,
    pub refunded_minor: i64,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub settled_at: Option<NaiveDateTime>,
    /// The pro forma a bank transfer pays (its invoice is issued when the money arrives).
    pub pro_forma_id: Option<String>,
}

pub fn insert(conn: &mut DbConnection, p: &Payment) -> QueryResult<usize> {
    diesel::insert_into(payments::table)
        .values(p.clone())
        .execute(conn)
}

pub fn find(conn: &mut DbConnection, id: &str) -> QueryResult<Option<Payment>> {
    payments::table
        .find(id)
        .select(Payment::as_select())
        .first(conn)
        .optional()
}

pub fn find_by_reference(conn: &mut DbConnection, reference: &str) -> QueryResult<Option<Payment>> {
    payments::table
        .filter(payments::gateway_reference.eq(reference))
        .select(Payment::as_select())
        .first(conn)
        .optional()
}

/// The succeeded payment of an invoice.
pub fn succeeded_for_invoice(
    conn: &mut DbConnection,
    invoice_id: &str,
) -> QueryResult<Option<Payment>> {
    payments::table
        .filter(payments::invoice_id.eq(invoice_id))
        .filter(payments::status.eq(PaymentStatus::Succeeded.as_str()))
        .select(Payment::as_select())
        .first(conn)
        .optional()
}

/// Settles a pending payment; false when it was not pending (settled already).
pub fn settle(
    conn: &mut DbConnection,
    id: &str,
    status: PaymentStatus,
    failure_code: Option<&str>,
    reference: Option<&str>,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let target = payments::table
        .find(id)
        .filter(payments::status.eq(PaymentStatus::Pending.as_str()));
    let n = match reference {
        Some(r) => diesel::update(target)
            .set((
                payments::status.eq(status.as_str()),
                payments::failure_code.eq(failure_code),
                payments::gateway_reference.eq(Some(r)),
                payments::settled_at.eq(Some(now)),
            ))
            .execute(conn)?,
        None => diesel::update(target)
            .set((
                payments::status.eq(status.as_str()),
                payments::failure_code.eq(failure_code),
                payments::settled_at.eq(Some(now)),
            ))
            .execute(conn)?,
    };
    Ok(n == 1)
}

pub fn add_refund(conn: &mut DbConnection, id: &str, minor: i64) -> QueryResult<usize> {
    diesel::update(payments::table.find(id))
        .set(payments::refunded_minor.eq(payments::refunded_minor + minor))
        .execute(conn)
}

/// Records the provider's reference of a pending charge.
pub fn set_reference(conn: &mut DbConnection, id: &str, reference: &str) -> QueryResult<usize> {
    diesel::update(payments::table.find(id))
        .set(payments::gateway_reference.eq(Some(reference)))
        .execute(conn)
}

/// What the organisation's pending top-ups will add to its prepaid balance, in minor units.
pub fn pending_top_ups_minor(conn: &mut DbConnection, org_id: &str) -> QueryResult<i64> {
    let amounts: Vec<i64> = payments::table
        .filter(payments::organization_id.eq(org_id))
        .filter(payments::purpose.eq(PaymentPurpose::TopUp.as_str()))
        .filter(payments::status.eq(PaymentStatus::Pending.as_str()))
        .select(payments::amount_minor)
        .load(conn)?;
    Ok(amounts.iter().sum())
}

/// The organisation's payments still waiting for the provider (of invoices or top-ups).
pub fn count_pending(conn: &mut DbConnection, org_id: &str) -> QueryResult<i64> {
    payments::table
        .filter(payments::organization_id.eq(org_id))
        .filter(payments::status.eq(PaymentStatus::Pending.as_str()))
        .count()
        .get_result(conn)
}

/// The organisation's payments still waiting for the provider, oldest first, at most `limit`.
pub fn pending_of(conn: &mut DbConnection, org_id: &str, limit: i64) -> QueryResult<Vec<Payment>> {
    payments::table
        .filter(payments::organization_id.eq(org_id))
        .filter(payments::status.eq(PaymentStatus::Pending.as_str()))
        .order((payments::created_at, payments::id))
        .limit(limit)
        .select(Payment::as_select())
        .load(conn)
}

/// Whether the organisation ever paid or tried to pay anything.
pub fn any_for_organization(conn: &mut DbConnection, org_id: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        payments::table.filter(payments::organization_id.eq(org_id)),
    ))
    .get_result(conn)
}

/// The bank transfer announced for the invoice and not arrived yet, if any.
pub fn pending_transfer_for_invoice(
    conn: &mut DbConnection,
    invoice_id: &str,
) -> QueryResult<Option<Payment>> {
    payments::table
        .filter(payments::invoice_id.eq(invoice_id))
        .filter(payments::method.eq(PaymentMethodKind::BankTransfer.as_str()))
        .filter(payments::status.eq(PaymentStatus::Pending.as_str()))
        .select(Payment::as_select())
        .first(conn)
        .optional()
}

/// A payment given up (a bank transfer `superseded`, a charge `expired` unconfirmed) whose money
/// arrived after all is credited once: true the first time only (the failure code gains
/// `_credited`).
pub fn claim_late_payment(
    conn: &mut DbConnection,
    id: &str,
    reference: Option<&str>,
) -> QueryResult<bool> {
    for given_up in [failure::SUPERSEDED, failure::EXPIRED, failure::UNANSWERED] {
        let n = diesel::update(
            payments::table
                .find(id)
                .filter(payments::status.eq(PaymentStatus::Failed.as_str()))
                .filter(payments::failure_code.eq(given_up)),
        )
        .set(payments::failure_code.eq(failure::credited(given_up)))
        .execute(conn)?;
        if n == 1 {
            // The provider's reference, when the charge's answer brought it: its webhooks,
            // refunds and disputes find the payment by it.
            if let Some(reference) = reference {
                diesel::update(
                    payments::table
                        .find(id)
                        .filter(payments::gateway_reference.is_null()),
                )
                .set(payments::gateway_reference.eq(reference))
                .execute(conn)?;
            }
            return Ok(true);
        }
    }
    Ok(false)
}

/// Charges given up as never made (`unanswered`) since `since`: the provider is asked again,
/// in case a stalled request made one after all (`payments::reconcile_unanswered`).
pub fn given_up_unanswered(
    conn: &mut DbConnection,
    since: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<Payment>> {
    payments::table
        .filter(payments::status.eq(PaymentStatus::Failed.as_str()))
        .filter(payments::failure_code.eq(failure::UNANSWERED))
        .filter(payments::method.eq(PaymentMethodKind::PaymentMethod.as_str()))
        .filter(payments::created_at.ge(since))
        .order((payments::created_at, payments::id))
        .limit(limit)
        .select(Payment::as_select())
        .load(conn)
}

/// Payments through a saved method still waiting for the provider since before `cutoff`.
pub fn pending_since(
    conn: &mut DbConnection,
    cutoff: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<Payment>> {
    payments::table
        .filter(payments::status.eq(PaymentStatus::Pending.as_str()))
        .filter(payments::method.eq(PaymentMethodKind::PaymentMethod.as_str()))
        .filter(payments::created_at.lt(cutoff))
        .order((payments::created_at, payments::id))
        .limit(limit)
        .select(Payment::as_select())
        .load(conn)
}

/// Charges through a saved method made before `cutoff` whose answer was never recorded (no
/// provider reference: a recorded answer either settles the payment or, pending confirmation,
/// stores the provider's reference): their request died between the charge and its record.
pub fn unanswered_charges(
    conn: &mut DbConnection,
    cutoff: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<Payment>> {
    payments::table
        .filter(payments::status.eq(PaymentStatus::Pending.as_str()))
        .filter(payments::method.eq(PaymentMethodKind::PaymentMethod.as_str()))
        .filter(payments::gateway_reference.is_null())
        .filter(payments::created_at.lt(cutoff))
        .order((payments::created_at, payments::id))
        .limit(limit)
        .select(Payment::as_select())
        .load(conn)
}

/// Whether the invoice has a payment pending or succeeded.
pub fn live_for_invoice(conn: &mut DbConnection, invoice_id: &str) -> QueryResult<bool> {
    let n: i64 = payments::table
        .filter(payments::invoice_id.eq(invoice_id))
        .filter(payments::status.eq_any([
            PaymentStatus::Pending.as_str(),
            PaymentStatus::Succeeded.as_str(),
        ]))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// The invoice's latest payment attempt.
pub fn latest_for_invoice(
    conn: &mut DbConnection,
    invoice_id: &str,
) -> QueryResult<Option<Payment>> {
    payments::table
        .filter(payments::invoice_id.eq(invoice_id))
        .order((payments::created_at.desc(), payments::id.desc()))
        .select(Payment::as_select())
        .first(conn)
        .optional()
}

/// A refund of a payment. One through the provider is `pending` while the provider is asked
/// (a partial unique index allows one per payment: a second refund waits for its outcome),
/// then `succeeded` or `failed`; one to the prepaid account is `succeeded` at once.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = refunds)]
pub struct Refund {
    pub id: String,
    pub payment_id: String,
    pub amount_minor: i64,
    #[diesel(deserialize_as = String, serialize_as = String)]
    pub destination: RefundDestination,
    #[diesel(deserialize_as = String, serialize_as = String)]
    pub status: RefundStatus,
    pub provider_reference: Option<String>,
    pub failure_code: Option<String>,
    pub created_at: NaiveDateTime,
    pub settled_at: Option<NaiveDateTime>,
}

pub fn insert_refund(conn: &mut DbConnection, r: &Refund) -> QueryResult<usize> {
    diesel::insert_into(refunds::table)
        .values(r.clone())
        .execute(conn)
}

/// What the payment's pending refund claims, in minor units (0 when none).
pub fn pending_refund_minor(conn: &mut DbConnection, payment_id: &str) -> QueryResult<i64> {
    let amounts: Vec<i64> = refunds::table
        .filter(refunds::payment_id.eq(payment_id))
        .filter(refunds::status.eq(RefundStatus::Pending.as_str()))
        .select(refunds::amount_minor)
        .load(conn)?;
    Ok(amounts.iter().sum())
}

/// The refund of a payment still pending at the provider, if any (at most one, by index).
pub fn pending_refund_of(conn: &mut DbConnection, payment_id: &str) -> QueryResult<Option<Refund>> {
    refunds::table
        .filter(refunds::payment_id.eq(payment_id))
        .filter(refunds::status.eq(RefundStatus::Pending.as_str()))
        .select(Refund::as_select())
        .first(conn)
        .optional()
}

/// Settles a pending refund (`succeeded` with the provider's reference, or `failed` with a
/// code); returns false when it was not pending (settled already).
pub fn settle_refund(
    conn: &mut DbConnection,
    id: &str,
    outcome: Result<&str, &str>,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let (status, reference, code) = match outcome {
        Ok(reference) => (RefundStatus::Succeeded, Some(reference), None),
        Err(code) => (RefundStatus::Failed, None, Some(code)),
    };
    let n = diesel::update(
        refunds::table
            .find(id)
            .filter(refunds::status.eq(RefundStatus::Pending.as_str())),
    )
    .set((
        refunds::status.eq(status.as_str()),
        refunds::provider_reference.eq(reference),
        refunds::failure_code.eq(code),
        refunds::settled_at.eq(Some(now)),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

pub fn find_refund(conn: &mut DbConnection, id: &str) -> QueryResult<Option<Refund>> {
    refunds::table
        .find(id)
        .select(Refund::as_select())
        .first(conn)
        .optional()
}
