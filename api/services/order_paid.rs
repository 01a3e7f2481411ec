//! What paying an order does to its products, in the payment's transaction (one place, whatever
//! paid it: the prepaid account, a card, a transfer's webhook, the renewal scheduler):
//! - new products start (`pending_payment` → `active`, from now for their period); a domain
//!   goes to `provisioning` and a `provision_domain` job registers it;
//! - each renewal it pays moves its product's expiry exactly once (`models::renewals::apply`),
//!   and a domain's is then renewed at the registry (a `renew_domain` job);
//! - paid by a saved card, its products renew automatically with that card (R39).

use chrono::NaiveDateTime;

use crate::db::DbConnection;
use crate::domain::billing_states::{MethodType, PaymentMethodKind};
use crate::error::AppError;
use crate::models::orders::Order;
use crate::models::payments::Payment;
use crate::models::renewals::{self, Applied};
use crate::models::{payment_methods, products};

pub fn apply(
    conn: &mut DbConnection,
    order: &Order,
    payment: &Payment,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    products::activate_order(conn, &order.id, now)?;
    crate::jobs::provision_domain::enqueue_of_order(conn, &order.id)?;
    let created = products::of_order(conn, &order.id)?;
    for p in &created {
        crate::services::outgoing_webhooks::product_created(conn, p)?;
    }
    let mut touched: Vec<String> = created.into_iter().map(|p| p.id).collect();
    for renewal in renewals::of_order(conn, &order.id)? {
        match renewals::apply(conn, &renewal, now)? {
            Applied::Extended => {
                crate::services::outgoing_webhooks::product_renewed(conn, &renewal)?;
                touched.push(renewal.product_id.clone());
                crate::jobs::renew_domain::enqueue_for(conn, &renewal)?;
            }
            Applied::AlreadySettled => {}
            // Rolls the payment back: better a payment refused than a term paid for twice or for a
            // cancelled product (the unique index and the cancellation checks make it unreachable).
            Applied::ExpiryMoved => {
                tracing::error!(renewal = %renewal.id, "the renewed product changed since");
                return Err(AppError::conflict(
                    "renewal_void",
                    "A product of this order was cancelled or renewed otherwise since: nothing was paid.",
                ));
            }
        }
    }
    // An upgrade the order paid for (R42) applies once.
    crate::models::product_changes::apply_of_order(conn, &order.id, now)?;
    if payment.method == PaymentMethodKind::PaymentMethod
        && let Some(method_id) = &payment.payment_method_id
        && payment_methods::find(conn, &payment.organization_id, method_id)?
            .is_some_and(|m| m.kind == MethodType::Card && m.deleted_at.is_none())
    {
        products::turn_on_auto_renewal(conn, &touched, method_id, now)?;
    }
    Ok(())
}
