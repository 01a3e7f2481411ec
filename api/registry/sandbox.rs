//! The sandbox registry: behaves like an EPP registry with its state in the database, so the whole
//! life of a domain (creation, renewals, locks, codes, transfers away) can be tried without a
//! real registry. Documented names (docs/domains.md):
//!
//! | label starts with | availability | creation |
//! |---|---|---|
//! | `taken-` | taken (registered elsewhere) | refused: not available |
//! | `race-` | available | refused: taken meanwhile |
//! | `held-` | available | created with `serverTransferProhibited` |
//!
//! Every other name is available until someone registers it. Transfers are asked for by the
//! operator command `leman registry simulate transfer-request DOMAIN CODE` (playing the gaining
//! registrar) and approved by the registry after the extension's waiting period on the sandbox's
//! clock, which `leman registry simulate advance DAYS` moves on. The sandbox keeps auth codes
//! only as salted SHA-256 hashes.

use chrono::{Duration, NaiveDate, NaiveDateTime};
use sha2::{Digest, Sha256};

use super::{
    Availability, OUR_REGISTRAR, PollMessage, Registry, RegistryDomain, RegistryError,
    TransferInfo, TransferStatus,
};
use crate::auth::secrets::constant_time_eq;
use crate::db::{self, DbConnection, Pool};
use crate::domain::domains::{Contacts, EppStatus, statuses_from_json, statuses_to_json};
use crate::extensions::Extensions;
use crate::models::registry_sandbox::{self as rows, MessageRow, RegistryRow};

/// The tag the sandbox gives a registrar that takes a domain away when none is named.
pub const OTHER_REGISTRAR: &str = "OTHER-REGISTRAR";

#[derive(Clone)]
pub struct SandboxRegistry {
    pool: Pool,
    extensions: Extensions,
}

fn unavailable(e: impl std::fmt::Display) -> RegistryError {
    RegistryError::Unavailable(e.to_string())
}

fn hash_code(salt: &str, code: &str) -> String {
    hex::encode(Sha256::digest(format!("{salt}:{code}").as_bytes()))
}

fn salted(code: &str) -> String {
    let salt = crate::auth::secrets::new_secret("salt");
    format!("{salt}${}", hash_code(&salt, code))
}

fn code_matches(stored: &str, code: &str) -> bool {
    match stored.split_once('$') {
        Some((salt, hash)) => constant_time_eq(hash, &hash_code(salt, code)),
        None => false,
    }
}

fn info_of(row: &RegistryRow) -> RegistryDomain {
    let transfer = match (
        row.transfer_status
            .as_deref()
            .and_then(TransferStatus::parse),
        &row.transfer_gaining_registrar,
        row.transfer_requested_at,
        row.transfer_act_at,
    ) {
        (Some(status), Some(gaining), Some(requested_at), Some(act_at)) => Some(TransferInfo {
            status,
            gaining_registrar: gaining.clone(),
            requested_at,
            act_at,
        }),
        _ => None,
    };
    RegistryDomain {
        name: row.name.clone(),
        registrar: row.registrar.clone(),
        statuses: statuses_from_json(&row.statuses),
        created_at: row.created_at,
        expires_at: row.expires_at,
        last_transferred_at: row.last_transferred_at,
        owner_email: row.owner_email.clone(),
        privacy: row.privacy,
        transfer,
    }
}

fn label(name: &str) -> &str {
    name.split('.').next().unwrap_or_default()
}

impl SandboxRegistry {
    pub fn new(pool: Pool, extensions: Extensions) -> Self {
        Self { pool, extensions }
    }

    fn conn(&self) -> Result<db::PooledConn, RegistryError> {
        self.pool.get().map_err(unavailable)
    }

    /// The sandbox's clock: the real one moved on by `simulate advance`.
    pub fn now(&self) -> Result<NaiveDateTime, RegistryError> {
        let mut conn = self.conn()?;
        let offset = rows::clock_offset(&mut conn).map_err(unavailable)?;
        Ok(db::now() + Duration::seconds(offset))
    }

    /// Runs `f` on our registration of `name` in one transaction and saves what it changed.
    fn update_ours<T>(
        &self,
        name: &str,
        f: impl FnOnce(&mut RegistryRow, NaiveDateTime) -> Result<T, RegistryError>,
    ) -> Result<T, RegistryError> {
        let now = self.now()?;
        let mut conn = self.conn()?;
        db::write(&mut conn, |c: &mut DbConnection| {
            let mut row = rows::find(c, name)
                .map_err(unavailable)?
                .ok_or(RegistryError::NotFound)?;
            if row.registrar != OUR_REGISTRAR {
                return Err(RegistryError::NotSponsor);
            }
            let read_at = row.updated_at;
            let out = f(&mut row, now)?;
            row.updated_at = now.max(read_at + Duration::microseconds(1));
            if !rows::save(c, &row, read_at).map_err(unavailable)? {
                return Err(unavailable("the registration changed meanwhile; try again"));
            }
            Ok(out)
        })
    }

    /// Approves the pending transfers whose waiting period is over and tells the losing
    /// registrar (a message in its poll queue).
    fn approve_due(&self) -> Result<(), RegistryError> {
        let now = self.now()?;
        let mut conn = self.conn()?;
        db::write(&mut conn, |c: &mut DbConnection| {
            for mut row in rows::transfers_due(c, now).map_err(unavailable)? {
                let read_at = row.updated_at;
                let losing = row.registrar.clone();
                complete_transfer(&mut row, TransferStatus::ServerApproved, now);
                if rows::save(c, &row, read_at).map_err(unavailable)? {
                    message(c, &losing, &row, now)?;
                }
            }
            Ok(())
        })
    }

    /// Plays the gaining registrar (`gaining`, or `OTHER-REGISTRAR`) asking for `name` with
    /// `code`: refused as a registry would for a wrong, expired or missing code or a prohibiting
    /// status; otherwise the transfer is pending until the extension's waiting period is over
    /// (at once where it has none), and the sponsoring registrar gets a poll message.
    pub fn simulate_transfer_request(
        &self,
        name: &str,
        code: &str,
        gaining: Option<&str>,
    ) -> Result<TransferStatus, RegistryError> {
        let gaining = gaining.unwrap_or(OTHER_REGISTRAR).to_string();
        let wait_days = name
            .rsplit('.')
            .next()
            .and_then(|tld| self.extensions.get(tld))
            .map_or(5, |e| e.transfer_wait_days);
        let now = self.now()?;
        let mut conn = self.conn()?;
        db::write(&mut conn, |c: &mut DbConnection| {
            let mut row = rows::find(c, name)
                .map_err(unavailable)?
                .ok_or(RegistryError::NotFound)?;
            if row.registrar == gaining {
                return Err(RegistryError::Policy("the domain is yours already".into()));
            }
            let statuses = statuses_from_json(&row.statuses);
            if let Some(s) = statuses.iter().find(|s| {
                matches!(
                    s,
                    EppStatus::ClientTransferProhibited
                        | EppStatus::ServerTransferProhibited
                        | EppStatus::PendingTransfer
                )
            }) {
                return Err(RegistryError::Prohibited(s.as_str().into()));
            }
            let valid = match (&row.auth_code_hash, row.auth_code_expires_at) {
                (Some(hash), Some(until)) => until > now && code_matches(hash, code),
                _ => false,
            };
            if !valid {
                return Err(RegistryError::Policy(
                    "the authorisation code is wrong or has expired".into(),
                ));
            }
            let read_at = row.updated_at;
            let losing = row.registrar.clone();
            row.transfer_status = Some(TransferStatus::Pending.as_str().into());
            row.transfer_gaining_registrar = Some(gaining.clone());
            row.transfer_requested_at = Some(now);
            row.transfer_act_at = Some(now + Duration::days(wait_days));
            let mut statuses = statuses;
            statuses.push(EppStatus::PendingTransfer);
            row.statuses = statuses_to_json(&statuses);
            let status = if wait_days == 0 {
                complete_transfer(&mut row, TransferStatus::ServerApproved, now);
                TransferStatus::ServerApproved
            } else {
                TransferStatus::Pending
            };
            row.updated_at = now.max(read_at + Duration::microseconds(1));
            if !rows::save(c, &row, read_at).map_err(unavailable)? {
                return Err(unavailable("the registration changed meanwhile; try again"));
            }
            // The request (and, for an immediate transfer, its approval) reaches the losing
            // registrar's poll queue.
            if status == TransferStatus::ServerApproved {
                let mut pending = row.clone();
                pending.transfer_status = Some(TransferStatus::Pending.as_str().into());
                message(c, &losing, &pending, now)?;
            }
            message(c, &losing, &row, now)?;
            Ok(status)
        })
    }

    /// Moves the sandbox's clock on by `days` and approves the transfers then due. Answers the
    /// sandbox's new time.
    pub fn advance(&self, days: i64) -> Result<NaiveDateTime, RegistryError> {
        {
            let mut conn = self.conn()?;
            db::write(&mut conn, |c: &mut DbConnection| {
                rows::advance_clock(c, days * 86_400).map_err(unavailable)
            })?;
        }
        self.approve_due()?;
        self.now()
    }
}

/// Ends a pending transfer: approved, the domain is the gaining registrar's (code cleared, locks
/// gone); otherwise it stays ours.
fn complete_transfer(row: &mut RegistryRow, status: TransferStatus, now: NaiveDateTime) {
    row.transfer_status = Some(status.as_str().into());
    let mut statuses: Vec<EppStatus> = statuses_from_json(&row.statuses)
        .into_iter()
        .filter(|s| *s != EppStatus::PendingTransfer)
        .collect();
    if status.is_approved() {
        if let Some(gaining) = &row.transfer_gaining_registrar {
            row.registrar = gaining.clone();
        }
        row.last_transferred_at = Some(now);
        row.auth_code_hash = None;
        row.auth_code_expires_at = None;
        statuses.retain(|s| {
            !matches!(
                s,
                EppStatus::ClientTransferProhibited
                    | EppStatus::ClientUpdateProhibited
                    | EppStatus::ClientDeleteProhibited
            )
        });
    }
    if statuses.is_empty() {
        statuses.push(EppStatus::Ok);
    }
    row.statuses = statuses_to_json(&statuses);
}

fn message(
    c: &mut DbConnection,
    registrar: &str,
    row: &RegistryRow,
    now: NaiveDateTime,
) -> Result<(), RegistryError> {
    rows::push_message(
        c,
        &MessageRow {
            id: format!("msg_{}", uuid::Uuid::now_v7().simple()),
            registrar: registrar.to_string(),
            domain_name: row.name.clone(),
            kind: "transfer".into(),
            status: row.transfer_status.clone().unwrap_or_default(),
            gaining_registrar: row.transfer_gaining_registrar.clone(),
            created_at: now,
            acked_at: None,
        },
    )
    .map_err(unavailable)
}

impl Registry for SandboxRegistry {
    fn check(&self, name: &str) -> Result<Availability, RegistryError> {
        let mut conn = self.conn()?;
        let taken = label(name).starts_with("taken-")
            || rows::find(&mut conn, name).map_err(unavailable)?.is_some();
        Ok(Availability {
            name: name.to_string(),
            available: !taken,
            reason: taken.then(|| "in use".to_string()),
        })
    }

    fn create(
        &self,
        name: &str,
        years: u32,
        contacts: &Contacts,
        privacy: bool,
    ) -> Result<RegistryDomain, RegistryError> {
        if !(1..=10).contains(&years) {
            return Err(RegistryError::Policy(
                "a registration lasts 1 to 10 years".into(),
            ));
        }
        if label(name).starts_with("taken-") || label(name).starts_with("race-") {
            return Err(RegistryError::NotAvailable);
        }
        let now = self.now()?;
        let mut statuses = vec![EppStatus::Ok];
        if label(name).starts_with("held-") {
            statuses = vec![EppStatus::ServerTransferProhibited];
        }
        let row = RegistryRow {
            name: name.to_string(),
            registrar: OUR_REGISTRAR.to_string(),
            statuses: statuses_to_json(&statuses),
            contacts: serde_json::to_string(contacts).map_err(unavailable)?,
            owner_email: contacts.owner.email.clone(),
            privacy,
            created_at: now,
            expires_at: now
                .checked_add_months(chrono::Months::new(12 * years))
                .unwrap_or(now),
            auth_code_hash: None,
            auth_code_expires_at: None,
            transfer_status: None,
            transfer_gaining_registrar: None,
            transfer_requested_at: None,
            transfer_act_at: None,
            last_transferred_at: None,
            updated_at: now,
        };
        let mut conn = self.conn()?;
        if rows::insert(&mut conn, &row).map_err(unavailable)? {
            return Ok(info_of(&row));
        }
        // Registered already: ours from an earlier try (a lost answer) is this creation.
        match rows::find(&mut conn, name).map_err(unavailable)? {
            Some(existing) if existing.registrar == OUR_REGISTRAR => Ok(info_of(&existing)),
            _ => Err(RegistryError::NotAvailable),
        }
    }

    fn renew(
        &self,
        name: &str,
        current_expiry: NaiveDate,
        years: u32,
    ) -> Result<NaiveDateTime, RegistryError> {
        if !(1..=10).contains(&years) {
            return Err(RegistryError::Policy("a renewal is 1 to 10 years".into()));
        }
        self.update_ours(name, |row, now| {
            if row.expires_at.date() != current_expiry {
                return Err(RegistryError::ExpiryMismatch);
            }
            let next = row
                .expires_at
                .checked_add_months(chrono::Months::new(12 * years))
                .ok_or_else(|| RegistryError::Policy("date out of range".into()))?;
            if next > now + Duration::days(366 * 10) {
                return Err(RegistryError::Policy(
                    "a registration reaches at most 10 years ahead".into(),
                ));
            }
            row.expires_at = next;
            Ok(next)
        })
    }

    fn info(&self, name: &str) -> Result<RegistryDomain, RegistryError> {
        let mut conn = self.conn()?;
        let row = rows::find(&mut conn, name)
            .map_err(unavailable)?
            .ok_or(RegistryError::NotFound)?;
        if row.registrar != OUR_REGISTRAR {
            return Err(RegistryError::NotSponsor);
        }
        Ok(info_of(&row))
    }

    fn update_statuses(
        &self,
        name: &str,
        add: &[EppStatus],
        remove: &[EppStatus],
    ) -> Result<Vec<EppStatus>, RegistryError> {
        let client_only = |s: &EppStatus| s.as_str().starts_with("client");
        if !add.iter().chain(remove).all(client_only) {
            return Err(RegistryError::Policy(
                "a registrar sets only client statuses".into(),
            ));
        }
        self.update_ours(name, |row, _| {
            let mut statuses: Vec<EppStatus> = statuses_from_json(&row.statuses)
                .into_iter()
                .filter(|s| !remove.contains(s) && *s != EppStatus::Ok)
                .collect();
            for s in add {
                if !statuses.contains(s) {
                    statuses.push(*s);
                }
            }
            if statuses.is_empty() {
                statuses.push(EppStatus::Ok);
            }
            row.statuses = statuses_to_json(&statuses);
            Ok(statuses)
        })
    }

    fn update_contacts(&self, name: &str, contacts: &Contacts) -> Result<(), RegistryError> {
        let json = serde_json::to_string(contacts).map_err(unavailable)?;
        self.update_ours(name, |row, _| {
            if statuses_from_json(&row.statuses).contains(&EppStatus::ClientUpdateProhibited) {
                return Err(RegistryError::Prohibited("clientUpdateProhibited".into()));
            }
            row.contacts = json;
            row.owner_email = contacts.owner.email.clone();
            Ok(())
        })
    }

    fn set_privacy(&self, name: &str, enabled: bool) -> Result<(), RegistryError> {
        let tld = name.rsplit('.').next().unwrap_or_default();
        if enabled && !self.extensions.get(tld).is_some_and(|e| e.privacy) {
            return Err(RegistryError::Policy(format!(
                ".{tld} has no WHOIS privacy"
            )));
        }
        self.update_ours(name, |row, _| {
            row.privacy = enabled;
            Ok(())
        })
    }

    fn set_auth_code(
        &self,
        name: &str,
        code: &str,
        valid_until: NaiveDateTime,
    ) -> Result<(), RegistryError> {
        if code.chars().count() < 8 {
            return Err(RegistryError::Policy(
                "an auth code has 8 characters or more".into(),
            ));
        }
        let hash = salted(code);
        self.update_ours(name, |row, _| {
            row.auth_code_hash = Some(hash);
            row.auth_code_expires_at = Some(valid_until);
            Ok(())
        })
    }

    fn generate_auth_code(
        &self,
        name: &str,
        valid_until: NaiveDateTime,
    ) -> Result<String, RegistryError> {
        let tld = name.rsplit('.').next().unwrap_or_default();
        let rules = self
            .extensions
            .get(tld)
            .and_then(|e| e.code.clone())
            .ok_or_else(|| RegistryError::Policy(format!(".{tld} issues no codes")))?;
        let code = rules.generate();
        let hash = salted(&code);
        self.update_ours(name, |row, _| {
            row.auth_code_hash = Some(hash);
            row.auth_code_expires_at = Some(valid_until);
            Ok(())
        })?;
        Ok(code)
    }

    fn clear_auth_code(&self, name: &str) -> Result<(), RegistryError> {
        self.update_ours(name, |row, _| {
            row.auth_code_hash = None;
            row.auth_code_expires_at = None;
            Ok(())
        })
    }

    fn release(&self, name: &str, tag: &str) -> Result<(), RegistryError> {
        let ok_tag = !tag.is_empty()
            && tag.len() <= 32
            && tag
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-');
        if !ok_tag {
            return Err(RegistryError::Policy(
                "a registrar tag is 1 to 32 upper-case letters, digits or hyphens".into(),
            ));
        }
        if tag == OUR_REGISTRAR {
            return Err(RegistryError::Policy("the domain is ours already".into()));
        }
        self.update_ours(name, |row, now| {
            row.transfer_status = Some(TransferStatus::ClientApproved.as_str().into());
            row.transfer_gaining_registrar = Some(tag.to_string());
            row.transfer_requested_at = Some(now);
            row.transfer_act_at = Some(now);
            complete_transfer(row, TransferStatus::ClientApproved, now);
            Ok(())
        })
    }

    fn reject_transfer(&self, name: &str) -> Result<(), RegistryError> {
        self.update_ours(name, |row, now| {
            if row.transfer_status.as_deref() != Some(TransferStatus::Pending.as_str()) {
                return Err(RegistryError::Policy("no transfer is pending".into()));
            }
            complete_transfer(row, TransferStatus::ClientRejected, now);
            Ok(())
        })
    }

    fn poll(&self) -> Result<Option<PollMessage>, RegistryError> {
        self.approve_due()?;
        let mut conn = self.conn()?;
        let Some(m) = rows::oldest_message(&mut conn, OUR_REGISTRAR).map_err(unavailable)? else {
            return Ok(None);
        };
        let row = rows::find(&mut conn, &m.domain_name).map_err(unavailable)?;
        let status = TransferStatus::parse(&m.status)
            .ok_or_else(|| unavailable(format!("unknown transfer status {}", m.status)))?;
        let (requested_at, act_at) = row
            .as_ref()
            .and_then(|r| Some((r.transfer_requested_at?, r.transfer_act_at?)))
            .unwrap_or((m.created_at, m.created_at));
        Ok(Some(PollMessage {
            id: m.id,
            domain: m.domain_name,
            transfer: TransferInfo {
                status,
                gaining_registrar: m.gaining_registrar.unwrap_or_default(),
                requested_at,
                act_at,
            },
        }))
    }

    fn ack(&self, message_id: &str) -> Result<(), RegistryError> {
        let now = self.now()?;
        let mut conn = self.conn()?;
        if rows::ack(&mut conn, OUR_REGISTRAR, message_id, now).map_err(unavailable)? {
            Ok(())
        } else {
            Err(RegistryError::NotFound)
        }
    }
}
