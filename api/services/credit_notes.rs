//! Credit notes: every refund issues one, in the transaction that records the refund as done
//! (`services::refunds::record`), numbered `CN-YYYY-NNNNNN` in its own gapless yearly sequence
//! and referring to the invoice refunded. A refund that fails issues none; the unique index on
//! `refund_id` keeps it to one per refund whatever runs twice.
//!
//! The amount given back is split by VAT rate in proportion to what the invoice's VAT rows still
//! hold (each row less what earlier credit notes took of it), exactly, in minor units: each row
//! gets its floor share, the cents left over go to the largest row, and no row takes more than it
//! holds. So a refund of everything left takes each row's rest to the cent, and an invoice's
//! credit notes together never give back more VAT at a rate than it charged.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDateTime};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::db::{self, DbConnection, Pool};
use crate::domain::billing_states::RefundDestination;
use crate::domain::ids::{CreditNoteId, path_id};
use crate::domain::page::PageParams;
use crate::error::AppError;
use crate::models::credit_notes::{self, CreditNote};
use crate::models::invoices::{self, Invoice};
use crate::services::orgs::{self, OrgRequest};

/// One VAT rate's part of a credit note (stored as `vat_breakdown` JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VatRow {
    /// Percent, as the invoice's lines write it (`8.1`).
    pub rate: String,
    pub net_minor: i64,
    pub vat_minor: i64,
}

impl VatRow {
    pub fn total_minor(&self) -> i64 {
        self.net_minor + self.vat_minor
    }
}

/// The VAT rows of a credit note.
pub fn breakdown(note: &CreditNote) -> Vec<VatRow> {
    serde_json::from_str(&note.vat_breakdown).unwrap_or_default()
}

/// Splits `amount` (minor units, VAT included) over `rows` (what each VAT rate still holds) in
/// proportion to their totals: floor shares, the rest on the largest row, no row beyond what it
/// holds (when `amount` does not exceed their sum); within a row, the VAT in proportion to the
/// row's own VAT (rounded half up), so a row taken whole gives exactly its net and VAT. The
/// result has one row per input row, in the same order, and sums to `amount` exactly.
pub fn split(rows: &[VatRow], amount: i64) -> Vec<VatRow> {
    let totals: Vec<i64> = rows.iter().map(|r| r.total_minor().max(0)).collect();
    let sum: i64 = totals.iter().sum();
    if rows.is_empty() {
        return vec![];
    }
    let largest = (0..rows.len())
        .max_by_key(|&i| (totals[i], std::cmp::Reverse(i)))
        .unwrap_or(0);
    let mut gross: Vec<i64> = if sum <= 0 {
        totals.iter().map(|_| 0).collect()
    } else {
        totals
            .iter()
            .map(|&t| ((amount as i128 * t as i128) / sum as i128) as i64)
            .collect()
    };
    let rest = amount - gross.iter().sum::<i64>();
    gross[largest] += rest;
    // No row beyond what it holds: what the largest row took too much moves to rows with room.
    if amount <= sum {
        let mut excess = 0;
        for (g, &t) in gross.iter_mut().zip(&totals) {
            if *g > t {
                excess += *g - t;
                *g = t;
            }
        }
        for (g, &t) in gross.iter_mut().zip(&totals) {
            let room = (t - *g).min(excess);
            *g += room;
            excess -= room;
        }
    }
    rows.iter()
        .zip(&totals)
        .zip(gross)
        .map(|((row, &total), g)| {
            let vat = if g == total {
                row.vat_minor
            } else if total > 0 {
                // Half up on positive amounts: (2·g·vat + total) / (2·total).
                ((2 * g as i128 * row.vat_minor as i128 + total as i128) / (2 * total as i128))
                    as i64
            } else {
                0
            };
            // Within what the row holds, when it holds enough.
            let vat = if g <= total {
                vat.min(row.vat_minor).min(g).max(g - row.net_minor).max(0)
            } else {
                vat
            };
            VatRow {
                rate: row.rate.clone(),
                net_minor: g - vat,
                vat_minor: vat,
            }
        })
        .collect()
}

/// The invoice's VAT rows (its lines summed by rate, lowest rate first).
fn invoice_rows(conn: &mut DbConnection, invoice_id: &str) -> Result<Vec<VatRow>, AppError> {
    let mut by_rate: BTreeMap<Decimal, VatRow> = BTreeMap::new();
    for l in invoices::lines(conn, invoice_id)? {
        let key: Decimal = l.vat_rate.parse().unwrap_or(Decimal::ZERO);
        let row = by_rate.entry(key).or_insert_with(|| VatRow {
            rate: l.vat_rate.clone(),
            net_minor: 0,
            vat_minor: 0,
        });
        row.net_minor += l.net_minor;
        row.vat_minor += l.vat_minor;
    }
    Ok(by_rate.into_values().collect())
}

/// Issues, in the caller's transaction (the refund just recorded as done, the organisation
/// locked), the credit note of refund `refund_id`: `minor` of `invoice` given back to `to`.
/// Once per refund: a second call returns the note already issued.
pub fn issue(
    conn: &mut DbConnection,
    invoice: &Invoice,
    refund_id: &str,
    minor: i64,
    to: RefundDestination,
    now: NaiveDateTime,
) -> Result<CreditNote, AppError> {
    if let Some(done) = credit_notes::of_refund(conn, refund_id)? {
        return Ok(done);
    }
    let rows = invoice_rows(conn, &invoice.id)?;
    // What each rate still holds: the invoice's row less what earlier credit notes took.
    let mut left = rows.clone();
    for earlier in credit_notes::of_invoice(conn, &invoice.id)? {
        for taken in breakdown(&earlier) {
            if let Some(row) = left.iter_mut().find(|r| same_rate(&r.rate, &taken.rate)) {
                row.net_minor -= taken.net_minor;
                row.vat_minor -= taken.vat_minor;
            }
        }
    }
    let holds: i64 = left.iter().map(|r| r.total_minor().max(0)).sum();
    // Refunds older than credit notes are not subtracted: when the rest cannot hold this one,
    // it is split over the invoice's own rows.
    let base = if holds >= minor { &left } else { &rows };
    let split: Vec<VatRow> = split(base, minor)
        .into_iter()
        .filter(|r| r.total_minor() != 0 || r.vat_minor != 0)
        .collect();
    let note = CreditNote {
        id: CreditNoteId::generate().into_inner(),
        organization_id: invoice.organization_id.clone(),
        invoice_id: invoice.id.clone(),
        refund_id: refund_id.to_string(),
        number: credit_notes::next_number(conn, now.year())?,
        currency: invoice.currency.clone(),
        subtotal_minor: split.iter().map(|r| r.net_minor).sum(),
        vat_minor: split.iter().map(|r| r.vat_minor).sum(),
        total_minor: minor,
        destination: to.as_str().to_string(),
        vat_breakdown: serde_json::to_string(&split).unwrap_or_else(|_| "[]".into()),
        issued_at: now,
    };
    credit_notes::insert(conn, &note)?;
    Ok(note)
}

fn same_rate(a: &str, b: &str) -> bool {
    match (a.parse::<Decimal>(), b.parse::<Decimal>()) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}

/// A credit note with the number of the invoice it refers to.
pub type WithInvoice = (CreditNote, String);

/// `?invoice_id=`: shaped like an invoice id, or a 422.
pub fn parse_invoice_filter(raw: Option<String>) -> Result<Option<String>, AppError> {
    raw.map(|r| {
        path_id(&r, "inv", "invoice")
            .map_err(|_| AppError::field("invoice_id", "invalid", "is not an invoice id"))
    })
    .transpose()
}

/// A page of the organisation's credit notes, newest first (holders of `accounting`).
pub async fn list(
    pool: &Pool,
    org: &OrgRequest,
    invoice_id: Option<String>,
    page: PageParams,
) -> Result<(Vec<WithInvoice>, Option<String>), AppError> {
    orgs::page_in(
        pool,
        org,
        page,
        move |c, org_id, before, limit| {
            credit_notes::page_with_invoice_numbers(c, org_id, invoice_id.as_deref(), before, limit)
        },
        |(n, _): &WithInvoice| (n.issued_at, n.id.as_str()),
    )
    .await
}

/// One credit note of the organisation (holders of `accounting`).
pub async fn get(pool: &Pool, org: &OrgRequest, id: CreditNoteId) -> Result<WithInvoice, AppError> {
    let access = org.access(pool).await?;
    db::run(pool, move |conn| {
        let note = credit_notes::find(conn, &access.org.id, &id)?
            .ok_or_else(|| AppError::not_found("No such credit note."))?;
        let number = invoices::find(conn, &access.org.id, &note.invoice_id)?
            .map(|i| i.number)
            .unwrap_or_default();
        Ok((note, number))
    })
    .await
}

/// One credit note of the organisation as a PDF, in `language` or the organisation's invoice
/// language (holders of `accounting`).
pub async fn pdf(
    pool: &Pool,
    config: &std::sync::Arc<crate::config::Config>,
    org: &OrgRequest,
    id: CreditNoteId,
    language: Option<crate::domain::Language>,
) -> Result<crate::domain::documents::RenderedDocument, AppError> {
    let access = org.access(pool).await?;
    let config = config.clone();
    db::run(pool, move |conn| {
        crate::services::documents::render(
            conn,
            &config,
            &access.org.id,
            crate::domain::documents::DocumentKind::CreditNote,
            &id,
            language,
        )
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn row(rate: &str, net: i64, vat: i64) -> VatRow {
        VatRow {
            rate: rate.into(),
            net_minor: net,
            vat_minor: vat,
        }
    }

    #[test]
    fn a_whole_refund_gives_back_each_row_exactly() {
        let rows = vec![row("2.6", 1000, 26), row("8.1", 2000, 162)];
        assert_eq!(split(&rows, 3188), rows);
    }

    #[test]
    fn the_cents_left_over_go_to_the_largest_row() {
        let rows = vec![row("0", 100, 0), row("8.1", 200, 16)];
        let s = split(&rows, 100);
        assert_eq!(s.iter().map(VatRow::total_minor).sum::<i64>(), 100);
        // 100 × 100/316 = 31.6 → 31; 100 × 216/316 = 68.3 → 68 + 1.
        assert_eq!(s[0].total_minor(), 31);
        assert_eq!(s[1].total_minor(), 69);
        assert_eq!(s[1].vat_minor, 5);
    }

    fn rows_strategy() -> impl Strategy<Value = Vec<VatRow>> {
        prop::collection::vec((0i64..1_000_000, 0u32..30), 1..5).prop_map(|v| {
            v.into_iter()
                .enumerate()
                .map(|(i, (net, rate))| {
                    // VAT near the rate, as an invoice's rounding gives it.
                    let vat = net * rate as i64 / 100;
                    row(&format!("{rate}.{i}"), net, vat)
                })
                .collect()
        })
    }

    proptest! {
        /// Any amount up to what the rows hold: exact sum, no negative part, no row beyond
        /// what it holds (total, net and VAT), one output row per input row.
        #[test]
        fn a_split_is_exact_and_within_the_rows(rows in rows_strategy(), share in 0.0f64..=1.0) {
            let holds: i64 = rows.iter().map(VatRow::total_minor).sum();
            let amount = (holds as f64 * share).floor() as i64;
            let s = split(&rows, amount);
            prop_assert_eq!(s.len(), rows.len());
            prop_assert_eq!(s.iter().map(VatRow::total_minor).sum::<i64>(), amount);
            for (part, whole) in s.iter().zip(&rows) {
                prop_assert!(part.net_minor >= 0 && part.vat_minor >= 0, "{:?} of {:?}", part, whole);
                prop_assert!(part.net_minor <= whole.net_minor, "{:?} of {:?}", part, whole);
                prop_assert!(part.vat_minor <= whole.vat_minor, "{:?} of {:?}", part, whole);
            }
        }

        /// Refunds one after another, each split over what the earlier ones left: together
        /// they give back each row exactly once all is refunded.
        #[test]
        fn successive_refunds_give_back_each_row_exactly(
            rows in rows_strategy(),
            cuts in prop::collection::vec(0.0f64..1.0, 0..4),
        ) {
            let holds: i64 = rows.iter().map(VatRow::total_minor).sum();
            let mut left = rows.clone();
            let mut refunded = 0;
            let mut amounts: Vec<i64> = cuts.iter().map(|c| ((holds - refunded) as f64 * c) as i64).collect();
            amounts.push(i64::MAX);
            for a in amounts {
                let remaining = holds - refunded;
                let a = a.min(remaining);
                let s = split(&left, a);
                prop_assert_eq!(s.iter().map(VatRow::total_minor).sum::<i64>(), a);
                for (l, p) in left.iter_mut().zip(&s) {
                    prop_assert!(p.net_minor >= 0 && p.vat_minor >= 0);
                    l.net_minor -= p.net_minor;
                    l.vat_minor -= p.vat_minor;
                    prop_assert!(l.net_minor >= 0 && l.vat_minor >= 0);
                }
                refunded += a;
            }
            prop_assert!(left.iter().all(|l| l.net_minor == 0 && l.vat_minor == 0));
        }
    }
}
