//! Verifying the activity record's hash chains: each record must follow its predecessor (no gap,
//! no reordering), link to its hash, hash to what it stores, and name the people its digests
//! name (unless the id was replaced by a deletion pseudonym); the chain's head must point at its
//! last record (nothing cut off the end).

use serde::Serialize;
use utoipa::ToSchema;

use crate::db::{self, DbConnection, Pool};
use crate::error::AppError;
use crate::models::activities::{self, Activity};
use crate::services::activity::{digest, hash_of};
use crate::services::orgs::OrgRequest;

/// Records read per query while walking a chain.
const BATCH: i64 = 1000;

/// The first record that does not check out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct BrokenRecord {
    /// The record's id; `null` when records are missing from the end of the chain.
    pub id: Option<String>,
    /// The position the record holds or should hold in the chain.
    pub seq: i64,
    /// `missing_record`, `wrong_sequence`, `wrong_link`, `content_changed`, `actor_changed`,
    /// `subject_changed` or `records_missing_at_end`.
    pub reason: &'static str,
}

/// The result of checking one chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(example = json!({"chain_id": "org_01936d7a6b2f7c3e9d4a5b6c7d8e9f00", "intact": true, "records": 42, "first_broken": null}))]
pub struct ChainReport {
    pub chain_id: String,
    pub intact: bool,
    /// Records checked.
    pub records: i64,
    pub first_broken: Option<BrokenRecord>,
}

fn check_record(a: &Activity, expected_seq: i64, prev_hash: &str) -> Option<&'static str> {
    if a.seq != Some(expected_seq) {
        return Some(if a.seq.is_some_and(|s| s > expected_seq) {
            "missing_record"
        } else {
            "wrong_sequence"
        });
    }
    if a.prev_hash.as_deref() != Some(prev_hash) {
        return Some("wrong_link");
    }
    if a.hash.as_deref() != Some(hash_of(a).as_str()) {
        return Some("content_changed");
    }
    // A deletion replaces the id by an `anon_` pseudonym; any other id must match its digest.
    let names = |id: &Option<String>, d: &Option<String>| match id {
        Some(id) if id.starts_with("anon_") => d.is_some(),
        Some(id) => d.as_deref() == Some(digest(id).as_str()),
        None => d.is_none(),
    };
    if !names(&a.actor_user_id, &a.actor_digest) {
        return Some("actor_changed");
    }
    if !names(&a.subject_user_id, &a.subject_digest) {
        return Some("subject_changed");
    }
    None
}

/// Walks one chain from its first record up to its head as read first: records appended while
/// the walk goes on (the server keeps writing) are the next run's, not a break.
pub fn verify_chain(conn: &mut DbConnection, chain: &str) -> diesel::QueryResult<ChainReport> {
    let (head_seq, head_hash) = activities::chain_head(conn, chain)?.unwrap_or((0, String::new()));
    let mut expected = 1;
    let mut prev_hash = String::new();
    let mut records = 0;
    let broken = |id: Option<String>, seq: i64, reason| ChainReport {
        chain_id: chain.to_string(),
        intact: false,
        records: 0,
        first_broken: Some(BrokenRecord { id, seq, reason }),
    };
    'walk: loop {
        let batch = activities::chain_records(conn, chain, expected - 1, BATCH)?;
        let done = (batch.len() as i64) < BATCH;
        for a in &batch {
            if expected > head_seq {
                break 'walk;
            }
            if let Some(reason) = check_record(a, expected, &prev_hash) {
                let mut report = broken(Some(a.id.clone()), expected, reason);
                report.records = records;
                return Ok(report);
            }
            prev_hash = a.hash.clone().unwrap_or_default();
            expected += 1;
            records += 1;
        }
        if done {
            break;
        }
    }
    if records != head_seq || prev_hash != head_hash {
        let mut report = broken(None, records + 1, "records_missing_at_end");
        report.records = records;
        return Ok(report);
    }
    Ok(ChainReport {
        chain_id: chain.to_string(),
        intact: true,
        records,
        first_broken: None,
    })
}

/// Every chain (for `leman audit verify`).
pub fn verify_all(conn: &mut DbConnection) -> diesel::QueryResult<Vec<ChainReport>> {
    activities::chain_ids(conn)?
        .iter()
        .map(|chain| verify_chain(conn, chain))
        .collect()
}

/// The organisation's chain, for its admins and legal representatives.
pub async fn verify_organization(pool: &Pool, org: &OrgRequest) -> Result<ChainReport, AppError> {
    let org = org.clone();
    db::run(pool, move |conn| {
        org.authorize(conn)?;
        Ok(verify_chain(conn, &org.org_id)?)
    })
    .await
}
