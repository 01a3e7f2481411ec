//! Every route, registered through utoipa-actix-web so the spec is generated from them.
//! Adding a route: one file per operation under its resource folder, a `#[utoipa::path]` with
//! every response it can give, and one `.service(...)` line in its folder's `configure`.

pub mod account;
pub mod activities;
pub mod auth;
pub mod billing_settings;
pub mod cancellations;
pub mod catalog;
pub mod credit_notes;
pub mod domain_owner_changes;
pub mod domains;
pub mod emails;
pub mod event_types;
pub mod feedback;
pub mod invitations;
pub mod invoices;
pub mod me;
pub mod members;
pub mod meta;
pub mod newsletters;
pub mod ops;
pub mod orders;
pub mod orgs;
pub mod passwords;
pub mod payment_methods;
pub mod payment_provider;
pub mod prepaid;
pub mod pro_forma;
pub mod products;
pub mod renewals;
pub mod security;
pub mod sessions;
pub mod tasks;
pub mod tokens;
pub mod two_factor;
pub mod users;
pub mod webhook_endpoints;

use utoipa_actix_web::scope;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::http::idempotency::Idempotency;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(ops::healthz::healthz)
        .service(ops::readyz::readyz)
        .service(ops::metrics::metrics)
        .service(
            scope::scope("/v1")
                .wrap(Idempotency)
                .service(meta::get_openapi::get_openapi)
                .configure(users::configure)
                .configure(auth::configure)
                .configure(me::configure)
                .configure(newsletters::configure)
                .configure(tokens::configure)
                .configure(account::configure)
                .configure(activities::configure)
                .configure(sessions::configure)
                .configure(security::configure)
                .configure(passwords::configure)
                .configure(emails::configure)
                .configure(two_factor::configure)
                .configure(orgs::configure)
                .configure(members::configure)
                .configure(invitations::configure)
                .configure(catalog::configure)
                .configure(products::configure)
                .configure(domains::configure)
                .configure(cancellations::configure)
                .configure(orders::configure)
                .configure(renewals::configure)
                .configure(pro_forma::configure)
                .configure(invoices::configure)
                .configure(credit_notes::configure)
                .configure(payment_methods::configure)
                .configure(prepaid::configure)
                .configure(billing_settings::configure)
                .configure(payment_provider::configure)
                .configure(domain_owner_changes::configure)
                .configure(tasks::configure)
                .configure(feedback::configure)
                .configure(webhook_endpoints::configure)
                .configure(event_types::configure),
        );
}
