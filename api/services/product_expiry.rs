//! Expiry (issue 11, part 6): a product its organisation did not renew lapses step by step,
//! each step once, an activity and a mail to the organisation's accounting holders:
//! - `active` at its `expires_at` → `expired` (still renewable during its offer's grace days;
//!   renewing restores it with its original term dates, `models::renewals::apply`);
//! - `expired` at `expires_at + grace_days` → `suspended`;
//! - `suspended` at `expires_at + grace_days + suspension_days` → `cancelled` (auto-renewal off);
//! - `cancellation_pending` at its confirmed cancellation's `effective_at` → `cancelled`.
//!
//! The pass reads only the due rows (by status and expiry, `products_status_expiry_idx`), per
//! group of offers sharing their lifecycle terms, in batches. Each move is a compare-and-set on
//! the status it leaves, after the organisation's lock (the concurrency rule): two passes racing
//! move each product once, and only the one that moved it records and mails. Products included in
//! a bundle are not read: they follow their bundle.

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDateTime};

use crate::catalog::Catalog;
use crate::config::Config;
use crate::db::{self, DbConnection};
use crate::domain::actor::Origin;
use crate::domain::billing_states::ProductStatus;
use crate::domain::events::ActivityKind;
use crate::error::AppError;
use crate::mail;
use crate::models::products::Product;
use crate::models::{cancellations, organizations, product_lifecycle};
use crate::services::activity::{self, Event};

/// Rows read per query.
const BATCH: i64 = 200;

/// How many products each step moved.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    pub expired: usize,
    pub suspended: usize,
    pub cancelled: usize,
    /// Cancelled by a confirmed cancellation reaching its date.
    pub cancellations_effective: usize,
}

impl Summary {
    pub fn total(&self) -> usize {
        self.expired + self.suspended + self.cancelled + self.cancellations_effective
    }
}

/// One pass at `now`, in one transaction (a savepoint inside the job's).
pub fn run(
    conn: &mut DbConnection,
    config: &Config,
    catalog: &Catalog,
    now: NaiveDateTime,
) -> Result<Summary, AppError> {
    db::write(conn, |c| {
        let mut summary = Summary::default();
        // Offers grouped by their terms: one query per group and step.
        let mut groups: BTreeMap<(i64, i64), Vec<String>> = BTreeMap::new();
        for offer in &catalog.offers {
            let l = &offer.lifecycle;
            groups
                .entry((l.grace_days, l.suspension_days))
                .or_default()
                .push(offer.id.clone());
        }
        // In the order of the steps, so a product long overdue takes each step in this pass.
        for ((grace, suspension), offers) in &groups {
            let terms = (*grace, *suspension);
            summary.expired += step(c, config, Step::Expire, offers, terms, now)?;
            summary.suspended += step(c, config, Step::Suspend, offers, terms, now)?;
            summary.cancelled += step(c, config, Step::Cancel, offers, terms, now)?;
        }
        summary.cancellations_effective = cancellations_due(c, config, now)?;
        Ok(summary)
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Expire,
    Suspend,
    Cancel,
}

impl Step {
    fn from(self) -> ProductStatus {
        match self {
            Step::Expire => ProductStatus::Active,
            Step::Suspend => ProductStatus::Expired,
            Step::Cancel => ProductStatus::Suspended,
        }
    }

    fn to(self) -> ProductStatus {
        match self {
            Step::Expire => ProductStatus::Expired,
            Step::Suspend => ProductStatus::Suspended,
            Step::Cancel => ProductStatus::Cancelled,
        }
    }

    fn kind(self) -> ActivityKind {
        match self {
            Step::Expire => ActivityKind::ProductExpired,
            Step::Suspend => ActivityKind::ProductSuspended,
            Step::Cancel => ActivityKind::ProductCancelled,
        }
    }

    fn template(self) -> &'static str {
        match self {
            Step::Expire => "product_expired",
            Step::Suspend => "product_suspended",
            Step::Cancel => "product_cancelled",
        }
    }
}

/// Moves every product of `offers` (whose terms are `(grace_days, suspension_days)`) that is due
/// for the step: in its status, with `expires_at` at or before now less the days the step waits.
fn step(
    conn: &mut DbConnection,
    config: &Config,
    step: Step,
    offers: &[String],
    (grace, suspension): (i64, i64),
    now: NaiveDateTime,
) -> Result<usize, AppError> {
    let cutoff = match step {
        Step::Expire => now,
        Step::Suspend => now - Duration::days(grace),
        Step::Cancel => now - Duration::days(grace + suspension),
    };
    let mut moved = 0;
    loop {
        let mut batch = product_lifecycle::due(conn, step.from(), offers, cutoff, BATCH)?;
        let full = batch.len() as i64 == BATCH;
        // Organisations locked in id order, like the order expiry, so passes never wait in a
        // cycle.
        batch.sort_by(|a, b| (&a.organization_id, &a.id).cmp(&(&b.organization_id, &b.id)));
        for product in &batch {
            organizations::lock(conn, &product.organization_id)?;
            // A product whose renewal or upgrade awaits payment is not cancelled under it (it is
            // once that order lapses; found by the review).
            if step == Step::Cancel
                && crate::services::cancellations::awaits_payment(conn, &product.id)?
            {
                continue;
            }
            // Only while still due: a renewal paid since the batch was read moved the expiry.
            let stepped = product_lifecycle::transition_due(
                conn,
                &product.id,
                &[step.from()],
                step.to(),
                cutoff,
                now,
            )?;
            if !stepped {
                continue;
            }
            let included = follow(conn, &product.id, step.to(), now)?;
            activity::record(
                conn,
                &Origin::system("expire_products"),
                Event::product_lapsed(step.kind(), product, &included, None),
            )?;
            let expiry = product.expires_at;
            let facts = serde_json::json!({
                "grace_ends": day(expiry.map(|e| e + Duration::days(grace))),
                "suspension_ends": day(expiry.map(|e| e + Duration::days(grace + suspension))),
            });
            tell_accounting(conn, config, step.template(), product, &included, facts)?;
            moved += 1;
        }
        if !full {
            return Ok(moved);
        }
    }
}

/// The confirmed cancellations whose date came: their products are cancelled.
fn cancellations_due(
    conn: &mut DbConnection,
    config: &Config,
    now: NaiveDateTime,
) -> Result<usize, AppError> {
    let mut moved = 0;
    loop {
        let mut batch = cancellations::due(conn, now, BATCH)?;
        let full = batch.len() as i64 == BATCH;
        batch.sort_by(|a, b| (&a.organization_id, &a.id).cmp(&(&b.organization_id, &b.id)));
        for c in &batch {
            organizations::lock(conn, &c.organization_id)?;
            let Some(product) =
                crate::models::products::find(conn, &c.organization_id, &c.product_id)?
            else {
                continue;
            };
            if !product_lifecycle::transition(
                conn,
                &product.id,
                &[ProductStatus::CancellationPending],
                ProductStatus::Cancelled,
                now,
            )? {
                continue;
            }
            let included = follow(conn, &product.id, ProductStatus::Cancelled, now)?;
            activity::record(
                conn,
                &Origin::system("expire_products"),
                Event::product_lapsed(
                    ActivityKind::ProductCancelled,
                    &product,
                    &included,
                    Some(&c.id),
                ),
            )?;
            let facts = serde_json::json!({"grace_ends": "", "suspension_ends": ""});
            tell_accounting(
                conn,
                config,
                "product_cancelled",
                &product,
                &included,
                facts,
            )?;
            moved += 1;
        }
        if !full {
            return Ok(moved);
        }
    }
}

/// The products a bundle includes take its new status with it; returns them.
pub fn follow(
    conn: &mut DbConnection,
    bundle_id: &str,
    to: ProductStatus,
    now: NaiveDateTime,
) -> Result<Vec<Product>, AppError> {
    let mut moved = vec![];
    for p in product_lifecycle::included_in(conn, bundle_id)? {
        if p.status != to && product_lifecycle::transition(conn, &p.id, &[p.status], to, now)? {
            moved.push(p);
        }
    }
    Ok(moved)
}

fn day(t: Option<NaiveDateTime>) -> String {
    t.map(|t| t.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

/// Mails each accounting holder of the product's organisation (R23), in their language.
fn tell_accounting(
    conn: &mut DbConnection,
    config: &Config,
    template: &str,
    product: &Product,
    included: &[Product],
    facts: serde_json::Value,
) -> Result<(), AppError> {
    let Some(org) = organizations::find(conn, &product.organization_id)? else {
        return Ok(());
    };
    let included: Vec<&str> = included.iter().map(|p| p.name.as_str()).collect();
    for r in product_lifecycle::members(conn, &product.organization_id)? {
        if !r.holds_accounting() {
            continue;
        }
        let mut context = serde_json::json!({
            "first_name": r.first_name,
            "organization_name": org.name,
            "product_name": product.name,
            "product_id": product.id,
            "expires_at": day(product.expires_at),
            "included": included.join(", "),
        });
        for (k, v) in facts.as_object().into_iter().flatten() {
            context[k] = v.clone();
        }
        mail::send(conn, config, template, &r.language, &r.email, context)?;
    }
    Ok(())
}
