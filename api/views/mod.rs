//! Response bodies (the API's view of rows).

pub mod activities;
pub mod billing;
pub mod billing_settings;
pub mod cancellations;
pub mod catalog;
pub mod credit_notes;
pub mod documents;
pub mod domain_availability;
pub mod domains;
pub mod feedback;
pub mod invoices;
pub mod me;
pub mod newsletters;
pub mod orders;
pub mod orgs;
pub mod payments;
pub mod prepaid;
pub mod prerequisites;
pub mod products;
pub mod renewals;
pub mod security;
pub mod sessions;
pub mod tasks;
pub mod tokens;
pub mod transfer_out;
pub mod two_factor;
pub mod webhooks;

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

pub fn utc(t: NaiveDateTime) -> DateTime<Utc> {
    t.and_utc()
}

/// A request was taken; what follows happens by mail.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"message": "If the address can be used, a mail is on its way."}))]
pub struct Accepted {
    pub message: &'static str,
}

impl Accepted {
    pub fn mail_on_its_way() -> Self {
        Self {
            message: "If the address can be used, a mail is on its way.",
        }
    }
}
