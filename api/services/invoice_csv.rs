//! The one CSV writer of invoices (R26): the streamed `export.csv` route and the export tasks
//! both write through it. RFC 4180 (comma, CRLF line ends, fields quoted when they hold a comma,
//! a quote or a line break, quotes doubled), UTF-8 without a byte-order mark, a fixed machine
//! header (documented in the spec of `export_invoices_csv`), amounts as decimals with a point and the currency's
//! two decimals (`1234.50`), times as RFC 3339 UTC as the API gives them. Values are written as
//! they are, never altered (no `'` before a leading `=`): the file is for machines.
//!
//! Rows come in keyset batches of [`BATCH`] invoices (newest first, as the list), each with its
//! lines in one more query: memory holds one batch, whatever the export's size.

use chrono::{NaiveDateTime, SecondsFormat};
use futures_util::Stream;

use crate::db::{self, DbConnection, Pool};
use crate::domain::money::Money;
use crate::domain::orgs::Currency;
use crate::error::AppError;
use crate::models::invoices::{self, Invoice, InvoiceFilter, InvoiceLine};
use crate::services::invoices::with_lines;

/// Invoices per batch (one query for them, one for their lines).
pub const BATCH: i64 = 500;

/// One row per invoice, or one per invoice line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    Invoices,
    Lines,
}

/// The header of one row per invoice.
pub const INVOICE_HEADER: [&str; 16] = [
    "number",
    "status",
    "issued_at",
    "due_at",
    "paid_at",
    "cancelled_at",
    "currency",
    "subtotal",
    "vat",
    "total",
    "refunded",
    "customer_name",
    "customer_country",
    "customer_vat_number",
    "order_id",
    "invoice_id",
];

/// The header of one row per invoice line: the invoice's identity, then the line.
pub const LINE_HEADER: [&str; 17] = [
    "number",
    "status",
    "issued_at",
    "currency",
    "customer_name",
    "invoice_id",
    "position",
    "description",
    "product_id",
    "quantity",
    "unit_price",
    "vat_rate",
    "net",
    "vat",
    "total",
    "period_start",
    "period_end",
];

/// The keyset position after a row: (issued_at, id), as the invoice list's cursor.
pub type Key = (NaiveDateTime, String);

fn time(t: NaiveDateTime) -> String {
    t.and_utc().to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

fn opt_time(t: Option<NaiveDateTime>) -> String {
    t.map(time).unwrap_or_default()
}

fn amount(minor: i64, currency: &str) -> String {
    Money::from_minor(minor, Currency::from_code(currency))
        .amount
        .to_string()
}

fn writer() -> csv::Writer<Vec<u8>> {
    csv::WriterBuilder::new()
        .has_headers(false)
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new())
}

fn finish(w: csv::Writer<Vec<u8>>) -> Result<Vec<u8>, AppError> {
    w.into_inner()
        .map_err(|e| AppError::internal(format!("writing CSV: {e}")))
}

fn csv_error(e: csv::Error) -> AppError {
    AppError::internal(format!("writing CSV: {e}"))
}

/// The header line.
pub fn header(layout: Layout) -> Vec<u8> {
    let mut w = writer();
    let written = match layout {
        Layout::Invoices => w.write_record(INVOICE_HEADER),
        Layout::Lines => w.write_record(LINE_HEADER),
    };
    written
        .map_err(csv_error)
        .and_then(|_| finish(w))
        .unwrap_or_default()
}

/// The rows of a batch.
pub fn rows(layout: Layout, batch: &[(Invoice, Vec<InvoiceLine>)]) -> Result<Vec<u8>, AppError> {
    let mut w = writer();
    for (i, lines) in batch {
        let c = i.currency.as_str();
        match layout {
            Layout::Invoices => w.write_record([
                i.number.as_str(),
                i.status.as_str(),
                &time(i.issued_at),
                &time(i.due_at),
                &opt_time(i.paid_at),
                &opt_time(i.cancelled_at),
                c,
                &amount(i.subtotal_minor, c),
                &amount(i.vat_minor, c),
                &amount(i.total_minor, c),
                &amount(i.refunded_minor, c),
                &i.customer_name,
                &i.customer_country,
                i.customer_vat_number.as_deref().unwrap_or(""),
                i.order_id.as_deref().unwrap_or(""),
                &i.id,
            ]),
            Layout::Lines => lines.iter().try_for_each(|l| {
                w.write_record([
                    i.number.as_str(),
                    i.status.as_str(),
                    &time(i.issued_at),
                    c,
                    &i.customer_name,
                    &i.id,
                    &l.position.to_string(),
                    &l.description,
                    l.product_id.as_deref().unwrap_or(""),
                    &l.quantity.to_string(),
                    &amount(l.unit_price_minor, c),
                    &l.vat_rate,
                    &amount(l.net_minor, c),
                    &amount(l.vat_minor, c),
                    &amount(l.total_minor, c),
                    &opt_time(l.period_start),
                    &opt_time(l.period_end),
                ])
            }),
        }
        .map_err(csv_error)?;
    }
    finish(w)
}

/// The next batch of `org_id`'s invoices matching `filter` after `after` (from the newest when
/// `None`), each with its lines: two queries.
pub fn batch(
    conn: &mut DbConnection,
    org_id: &str,
    filter: &InvoiceFilter,
    after: Option<Key>,
    size: i64,
) -> diesel::QueryResult<Vec<(Invoice, Vec<InvoiceLine>)>> {
    let rows = invoices::page(conn, org_id, filter, after, size)?;
    let ids: Vec<String> = rows.iter().map(|i| i.id.clone()).collect();
    let lines = if ids.is_empty() {
        vec![]
    } else {
        invoices::lines_of(conn, &ids)?
    };
    Ok(with_lines(rows, lines))
}

/// The key after the last row of a batch.
pub fn key_after(batch: &[(Invoice, Vec<InvoiceLine>)]) -> Option<Key> {
    batch.last().map(|(i, _)| (i.issued_at, i.id.clone()))
}

/// The whole export as a stream of CSV pieces: the header, then one piece per batch, each batch
/// read on the blocking pool when the previous piece was taken (so a slow reader holds back the
/// reading, and memory holds one batch). A failure is logged and ends the stream with an error:
/// the response is cut, never completed as if the file were whole.
pub fn stream(
    pool: Pool,
    org_id: String,
    filter: InvoiceFilter,
    layout: Layout,
) -> impl Stream<Item = Result<Vec<u8>, AppError>> + 'static {
    enum Step {
        Header,
        After(Option<Key>),
        Done,
    }
    futures_util::stream::unfold(Step::Header, move |step| {
        let (pool, org_id, filter) = (pool.clone(), org_id.clone(), filter.clone());
        async move {
            match step {
                Step::Header => Some((Ok(header(layout)), Step::After(None))),
                Step::Done => None,
                Step::After(after) => {
                    let org = org_id.clone();
                    let read = db::run(&pool, move |c| {
                        let b = batch(c, &org, &filter, after, BATCH)?;
                        let bytes = rows(layout, &b)?;
                        Ok((key_after(&b), b.len() as i64, bytes))
                    })
                    .await;
                    match read {
                        Ok((_, 0, _)) => None,
                        Ok((key, n, bytes)) => {
                            let next = if n < BATCH {
                                Step::Done
                            } else {
                                Step::After(key)
                            };
                            Some((Ok(bytes), next))
                        }
                        Err(e) => {
                            tracing::error!(
                                organization = %org_id,
                                code = e.code,
                                "invoice CSV export cut short: {}",
                                e.internal.as_deref().unwrap_or(&e.detail)
                            );
                            Some((Err(e), Step::Done))
                        }
                    }
                }
            }
        }
    })
}
