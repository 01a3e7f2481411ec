//! A paid domain at the registry (issue 12): what the `provision_domain` and `renew_domain` jobs
//! write once the registry answered, each in the job's completing transaction. The registry is
//! called by the jobs before, outside any transaction; each write here first takes the
//! organisation's lock, then reads the domain again and acts only on the state it expects, so a
//! job that runs twice (a crash between the registry's answer and the commit) changes nothing
//! the second time.

use chrono::NaiveDateTime;

use crate::config::Config;
use crate::db::{self, DbConnection};
use crate::domain::actor::Origin;
use crate::domain::domains::{DomainStatus, EppStatus, statuses_to_json};
use crate::error::AppError;
use crate::models::{domains, invoices, orders, organizations, products};
use crate::registry::RegistryDomain;
use crate::services::activity::{self, Event};

fn changed_meanwhile() -> AppError {
    AppError::conflict(
        "domain_changed",
        "the domain changed meanwhile; the job runs again",
    )
}

/// The organisation's lock, then the domain as it is now.
fn locked_domain(c: &mut DbConnection, domain_id: &str) -> Result<domains::Domain, AppError> {
    let d = domains::find_any(c, domain_id)?
        .ok_or_else(|| AppError::internal(format!("domain {domain_id} vanished")))?;
    organizations::lock(c, &d.organization_id)?;
    domains::find_any(c, domain_id)?
        .ok_or_else(|| AppError::internal(format!("domain {domain_id} vanished")))
}

/// Who ordered the domain's product (told by mail), if the order is known.
fn orderer(c: &mut DbConnection, d: &domains::Domain) -> Result<Option<orders::Order>, AppError> {
    let Some(p) = products::find(c, &d.organization_id, &d.product_id)? else {
        return Ok(None);
    };
    Ok(orders::find(c, &d.organization_id, &p.order_id)?)
}

/// The registry created the domain: it is `active` with the registry's dates and statuses, its
/// product `active` until the registry's expiry; an activity, and a mail to who ordered it.
pub fn registered(
    c: &mut DbConnection,
    config: &Config,
    domain_id: &str,
    at_registry: &RegistryDomain,
) -> Result<(), AppError> {
    let mut d = locked_domain(c, domain_id)?;
    if d.status != DomainStatus::Registering {
        return Ok(());
    }
    let now = db::now();
    d.status = DomainStatus::Active;
    d.registered_at = Some(db::truncate(at_registry.created_at));
    d.expires_at = Some(db::truncate(at_registry.expires_at));
    d.registry_statuses = statuses_to_json(&at_registry.statuses);
    d.locked = at_registry
        .statuses
        .contains(&EppStatus::ClientTransferProhibited);
    d.privacy = at_registry.privacy;
    if !domains::save(c, &mut d, now)? {
        return Err(changed_meanwhile());
    }
    products::start_provisioned(c, &d.product_id, db::truncate(at_registry.expires_at), now)?;
    activity::record(
        c,
        &Origin::system("provision_domain"),
        Event::domain_registered(&d),
    )?;
    if let Some(order) = orderer(c, &d)? {
        crate::services::payments::send_receipt(
            c,
            config,
            "domain_registered",
            &order.created_by,
            &d.organization_id,
            serde_json::json!({
                "domain": d.unicode_name,
                "expires_at": at_registry.expires_at.format("%Y-%m-%d").to_string(),
            }),
        )?;
    }
    Ok(())
}

/// The registry refused the name (taken meanwhile): the domain and its product `failed`, what
/// was paid for it (its invoice lines, VAT included) back to the prepaid account as a refund on
/// the invoice, an activity, and a mail to who ordered it. Once: a domain no longer
/// `registering` is left alone.
pub fn failed(
    c: &mut DbConnection,
    config: &Config,
    domain_id: &str,
    reason: &str,
) -> Result<(), AppError> {
    let mut d = locked_domain(c, domain_id)?;
    if d.status != DomainStatus::Registering {
        return Ok(());
    }
    let now = db::now();
    d.status = DomainStatus::Failed;
    if !domains::save(c, &mut d, now)? {
        return Err(changed_meanwhile());
    }
    products::fail_provisioning(c, &d.product_id, now)?;
    let origin = Origin::system("provision_domain");
    let order = orderer(c, &d)?;
    let Some(order) = order else {
        tracing::error!(domain = %d.id, "a failed domain has no order: nothing refunded");
        return Ok(());
    };
    let paid: i64 = invoices::lines(c, &order.invoice_id)?
        .iter()
        .filter(|l| l.product_id.as_deref() == Some(d.product_id.as_str()))
        .map(|l| l.total_minor)
        .sum();
    let (invoice, refunded) = crate::services::refunds::to_prepaid_for_undelivered(
        c,
        config,
        &origin,
        &order.invoice_id,
        paid,
    )?;
    activity::record(
        c,
        &origin,
        Event::domain_registration_failed(&d, reason, &invoice.id, refunded),
    )?;
    crate::services::payments::send_receipt(
        c,
        config,
        "domain_registration_failed",
        &order.created_by,
        &d.organization_id,
        serde_json::json!({
            "domain": d.unicode_name,
            "invoice_number": invoice.number,
            "amount": refunded.display(),
        }),
    )?;
    Ok(())
}

/// The registry renewed the domain from `previous` to `expires_at`: our record follows it.
/// Nothing when it shows that expiry already (the job ran before).
pub fn renewed(
    c: &mut DbConnection,
    domain_id: &str,
    previous: NaiveDateTime,
    years: u32,
    expires_at: NaiveDateTime,
) -> Result<(), AppError> {
    let mut d = locked_domain(c, domain_id)?;
    let expires_at = db::truncate(expires_at);
    if d.expires_at.is_some_and(|e| e >= expires_at) {
        return Ok(());
    }
    d.expires_at = Some(expires_at);
    if d.status == DomainStatus::Expired {
        d.status = DomainStatus::Active;
    }
    if !domains::save(c, &mut d, db::now())? {
        return Err(changed_meanwhile());
    }
    activity::record(
        c,
        &Origin::system("renew_domain"),
        Event::domain_renewed(&d, previous, years),
    )?;
    Ok(())
}
