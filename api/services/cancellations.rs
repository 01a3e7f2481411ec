//! Cancelling a product (R43–R46, issue 11 part 8).
//! - Asked (`request`): nothing changes on the product; the requester gets a single-use link,
//!   valid 24 hours (R43). A product whose offer keeps backups needs the request to acknowledge
//!   that they are deleted for good (R46). A product included in a bundle is cancelled only with
//!   its bundle.
//! - Confirmed through the link (`confirm`): `now` cancels the product at once; `end_of_term`
//!   makes it `cancellation_pending` until its expiry, when the expiry job cancels it. Either
//!   way automatic renewal is off, the bundle's included products follow, and the
//!   organisation's other admins and legal representatives are told (R45). Open invoices stay
//!   open (R44): nothing here touches invoices.
//! - Withdrawn (`withdraw`): a requested one, or a confirmed one not yet effective (the product
//!   is `active` again; automatic renewal stays off).

use chrono::{Duration, NaiveDateTime};

use crate::context::Services;
use crate::db::{self, DbConnection, is_unique_violation};
use crate::domain::account_states::LinkPurpose;
use crate::domain::actor::Origin;
use crate::domain::billing_states::{CancellationStatus, CancellationWhen, ProductStatus};
use crate::domain::ids::ProductId;
use crate::domain::orgs::{Need, Permission};
use crate::error::AppError;
use crate::mail;
use crate::models::cancellations::{self, Cancellation};
use crate::models::products::{self, Product};
use crate::models::{memberships, one_time_tokens, organizations, product_lifecycle};
use crate::services::activity::{self, Event};
use crate::services::orgs::OrgRequest;
use crate::services::product_expiry;

/// How long a confirmation link is valid.
pub const LINK_HOURS: i64 = 24;
/// The longest reason kept.
pub const MAX_REASON: usize = 500;

/// What a cancellation request asks.
#[derive(Debug, Clone)]
pub struct RequestInput {
    pub when: CancellationWhen,
    pub reason: Option<String>,
    pub acknowledge_backup_deletion: bool,
}

/// A cancellation with what the catalogue says of its product.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub cancellation: Cancellation,
    /// The product's backups are deleted for good at cancellation (R46).
    pub backups_deleted: bool,
    /// The product's status afterwards.
    pub product_status: ProductStatus,
}

const CANCELLABLE: [ProductStatus; 3] = [
    ProductStatus::Active,
    ProductStatus::Expired,
    ProductStatus::Suspended,
];

fn no_product() -> AppError {
    AppError::not_found("No such product.")
}

fn bundled() -> AppError {
    AppError::conflict(
        "bundled_product",
        "This product is included in a bundle: it is cancelled with its bundle, not alone.",
    )
}

fn pending() -> AppError {
    AppError::conflict(
        "cancellation_pending",
        "A confirmed cancellation of this product is waiting for the end of its term: withdraw it first to cancel otherwise.",
    )
}

fn not_cancellable(status: ProductStatus) -> AppError {
    AppError::conflict(
        "product_not_cancellable",
        format!(
            "A product {} cannot be cancelled: only active, expired or suspended ones can.",
            status.as_str()
        ),
    )
}

fn payment_awaited() -> AppError {
    AppError::conflict(
        "renewal_pending",
        "A renewal or an upgrade of this product awaits payment: pay it or let it lapse before cancelling (found by the review: paying it later would extend a cancelled product).",
    )
}

/// Whether a renewal or an upgrade of the product waits for its payment.
pub fn awaits_payment(c: &mut DbConnection, product_id: &str) -> Result<bool, AppError> {
    Ok(
        !crate::models::renewals::pending_of_products(c, &[product_id.to_string()])?.is_empty()
            || crate::models::product_changes::pending_of_product(c, product_id)?.is_some(),
    )
}

fn backups_not_acknowledged() -> AppError {
    let mut e = AppError::unprocessable(
        "backup_deletion_not_acknowledged",
        "This product's backups are deleted for good at cancellation and cannot be restored afterwards: send `acknowledge_backup_deletion: true` to cancel it.",
    );
    e.errors = vec![crate::error::FieldError {
        field: "/acknowledge_backup_deletion".into(),
        code: "backup_deletion_not_acknowledged".into(),
        message: "must be true: the backups are deleted for good".into(),
    }];
    e
}

/// When a cancellation confirmed at `now` takes effect: now, or at the term's end. The term of
/// an expired or suspended product is over: it ends now.
fn effective_at(when: CancellationWhen, product: &Product, now: NaiveDateTime) -> NaiveDateTime {
    match (when, product.status) {
        (CancellationWhen::EndOfTerm, ProductStatus::Active) => {
            product.expires_at.map_or(now, |e| e.max(now))
        }
        _ => now,
    }
}

fn backups_of(ctx: &Services, product: &Product) -> bool {
    ctx.catalog
        .offer(&product.offer_id)
        .is_some_and(|o| o.lifecycle.backups)
}

fn day(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%d").to_string()
}

/// `POST /v1/orgs/{org_id}/products/{product_id}/cancellation`.
pub async fn request(
    ctx: &Services,
    meta: Origin,
    org: &OrgRequest,
    product_id: ProductId,
    input: RequestInput,
) -> Result<Outcome, AppError> {
    let (org, services) = (org.clone(), ctx.clone());
    db::run(&ctx.pool, move |conn| {
        db::write(conn, |c| {
            let access = org.authorize(c)?;
            if input
                .reason
                .as_deref()
                .is_some_and(|r| r.chars().count() > MAX_REASON)
            {
                return Err(AppError::field(
                    "/reason",
                    "too_long",
                    format!("at most {MAX_REASON} characters"),
                ));
            }
            let product = products::find(c, &access.org.id, &product_id)?.ok_or_else(no_product)?;
            if product.bundle_id.is_some() {
                return Err(bundled());
            }
            if product.status == ProductStatus::CancellationPending {
                return Err(pending());
            }
            if !CANCELLABLE.contains(&product.status) {
                return Err(not_cancellable(product.status));
            }
            if awaits_payment(c, &product.id)? {
                return Err(payment_awaited());
            }
            let live = cancellations::live_of_product(c, &product.id)?;
            if live
                .iter()
                .any(|l| l.status == CancellationStatus::Confirmed)
            {
                return Err(pending());
            }
            let backups_deleted = backups_of(&services, &product);
            if backups_deleted && !input.acknowledge_backup_deletion {
                return Err(backups_not_acknowledged());
            }
            let now = db::now();
            // A newer request replaces one still waiting: its link no longer confirms anything.
            for old in &live {
                cancellations::withdraw(c, &old.id, CancellationStatus::Requested, now)?;
            }
            let user = &org.caller.account;
            let secret = one_time_tokens::issue_another(
                c,
                &user.id,
                LinkPurpose::Cancellation,
                Duration::hours(LINK_HOURS),
                None,
            )?;
            let cancellation = Cancellation {
                id: db::new_id("cnl"),
                organization_id: access.org.id.clone(),
                product_id: product.id.clone(),
                requested_by: user.id.clone(),
                effective: input.when,
                reason: input.reason.clone().filter(|r| !r.trim().is_empty()),
                status: CancellationStatus::Requested,
                created_at: now,
                confirmed_at: None,
                effective_at: Some(effective_at(input.when, &product, now)),
                withdrawn_at: None,
                link_token_hash: Some(cancellations::link_hash(&secret)),
            };
            cancellations::insert(c, &cancellation)?;
            mail::send(
                c,
                &services.config,
                "cancellation_confirm",
                &user.language,
                &user.email,
                serde_json::json!({
                    "first_name": user.first_name,
                    "organization_name": access.org.name,
                    "product_name": product.name,
                    "now": input.when == CancellationWhen::Now,
                    "effective_at": day(cancellation.effective_at.unwrap_or(now)),
                    "backups": backups_deleted,
                    "link": services.config.app_link("/confirm-cancellation", &secret),
                    "hours": LINK_HOURS,
                }),
            )?;
            activity::record(
                c,
                &meta,
                Event::cancellation_requested(&user.id, &cancellation, backups_deleted),
            )?;
            Ok(Outcome {
                cancellation,
                backups_deleted,
                product_status: product.status,
            })
        })
    })
    .await
}

/// `POST /v1/cancellations/confirm`: the mailed link's token confirms its cancellation, once.
pub async fn confirm(ctx: &Services, meta: Origin, token: String) -> Result<Outcome, AppError> {
    let services = ctx.clone();
    db::run(&ctx.pool, move |conn| {
        db::write(conn, |c| {
            let found =
                cancellations::find_by_link(c, &token)?.ok_or_else(AppError::invalid_token)?;
            // The concurrency rule: the organisation's lock before its products.
            organizations::lock(c, &found.organization_id)?;
            let used = one_time_tokens::consume(c, &token, LinkPurpose::Cancellation)?
                .filter(|t| t.user_id == found.requested_by)
                .ok_or_else(AppError::invalid_token)?;
            // Re-read under the lock: withdrawn or replaced meanwhile, the link is spent.
            let cancellation = cancellations::live_of_product(c, &found.product_id)?
                .into_iter()
                .find(|l| l.id == found.id && l.status == CancellationStatus::Requested)
                .ok_or_else(AppError::invalid_token)?;
            // Whoever asked must still be allowed to (a member holding `products`).
            memberships::find(c, &cancellation.organization_id, &used.user_id)?
                .filter(|m| m.grant().satisfies(Need::Permission(Permission::Products)))
                .ok_or_else(AppError::invalid_token)?;
            let product =
                products::find(c, &cancellation.organization_id, &cancellation.product_id)?
                    .ok_or_else(AppError::invalid_token)?;
            if product.bundle_id.is_some() {
                return Err(bundled());
            }
            if !CANCELLABLE.contains(&product.status) {
                return Err(if product.status == ProductStatus::CancellationPending {
                    pending()
                } else {
                    not_cancellable(product.status)
                });
            }
            if awaits_payment(c, &product.id)? {
                return Err(payment_awaited());
            }
            let now = db::now();
            let at = effective_at(cancellation.effective, &product, now);
            match cancellations::confirm(c, &cancellation.id, at, now) {
                Ok(true) => {}
                Ok(false) => return Err(AppError::invalid_token()),
                Err(e) if is_unique_violation(&e) => return Err(pending()),
                Err(e) => return Err(e.into()),
            }
            let to = if at <= now {
                ProductStatus::Cancelled
            } else {
                ProductStatus::CancellationPending
            };
            if !product_lifecycle::transition(c, &product.id, &CANCELLABLE, to, now)? {
                return Err(not_cancellable(product.status));
            }
            let included = product_expiry::follow(c, &product.id, to, now)?;
            tell_admins(c, &services, &cancellation, &product, &included, at)?;
            let confirmed = Cancellation {
                status: CancellationStatus::Confirmed,
                confirmed_at: Some(now),
                effective_at: Some(at),
                ..cancellation
            };
            activity::record(
                c,
                &meta,
                Event::cancellation_confirmed(
                    &confirmed,
                    at,
                    to == ProductStatus::Cancelled,
                    &included,
                ),
            )?;
            Ok(Outcome {
                backups_deleted: backups_of(&services, &product),
                cancellation: confirmed,
                product_status: to,
            })
        })
    })
    .await
}

/// R45: the organisation's other admins and legal representatives hear of a confirmed
/// cancellation, in their language.
fn tell_admins(
    conn: &mut DbConnection,
    services: &Services,
    c: &Cancellation,
    product: &Product,
    included: &[Product],
    at: NaiveDateTime,
) -> Result<(), AppError> {
    let Some(org) = organizations::find(conn, &c.organization_id)? else {
        return Ok(());
    };
    let requester = crate::models::users::find(conn, &c.requested_by)?
        .map(|u| format!("{} {}", u.first_name, u.last_name))
        .unwrap_or_default();
    let included: Vec<&str> = included.iter().map(|p| p.name.as_str()).collect();
    for r in product_lifecycle::members(conn, &c.organization_id)? {
        if !r.is_admin() || r.user_id == c.requested_by {
            continue;
        }
        mail::send(
            conn,
            &services.config,
            "cancellation_confirmed",
            &r.language,
            &r.email,
            serde_json::json!({
                "first_name": r.first_name,
                "organization_name": org.name,
                "product_name": product.name,
                "requested_by": requester,
                "effective_at": day(at),
                "now": c.effective == CancellationWhen::Now,
                "included": included.join(", "),
            }),
        )?;
    }
    Ok(())
}

/// `DELETE /v1/orgs/{org_id}/products/{product_id}/cancellation`.
pub async fn withdraw(
    ctx: &Services,
    meta: Origin,
    org: &OrgRequest,
    product_id: ProductId,
) -> Result<(), AppError> {
    let org = org.clone();
    db::run(&ctx.pool, move |conn| {
        db::write(conn, |c| {
            let access = org.authorize(c)?;
            let product = products::find(c, &access.org.id, &product_id)?.ok_or_else(no_product)?;
            let now = db::now();
            let live = cancellations::live_of_product(c, &product.id)?;
            let target = live.iter().find(|l| {
                l.status == CancellationStatus::Requested
                    || (l.status == CancellationStatus::Confirmed
                        && product.status == ProductStatus::CancellationPending)
            });
            let Some(target) = target else {
                return Err(AppError::conflict(
                    "no_cancellation",
                    "This product has no cancellation to withdraw (none asked, or it already took effect).",
                ));
            };
            if !cancellations::withdraw(c, &target.id, target.status, now)? {
                return Err(AppError::conflict(
                    "no_cancellation",
                    "This product's cancellation changed meanwhile: read it again.",
                ));
            }
            if target.status == CancellationStatus::Confirmed {
                product_lifecycle::transition(
                    c,
                    &product.id,
                    &[ProductStatus::CancellationPending],
                    ProductStatus::Active,
                    now,
                )?;
                product_expiry::follow(c, &product.id, ProductStatus::Active, now)?;
            }
            activity::record(
                c,
                &meta,
                Event::cancellation_withdrawn(&org.caller.user_id, target),
            )?;
            Ok(())
        })
    })
    .await
}
