//! Reading invoices (R23, R25) and products: for holders of `accounting` (invoices) and
//! `products` (products), newest first, filtered, keyset-paged.

use crate::db::{self, Pool};
use crate::domain::billing_states::InvoiceStatus;
use crate::domain::ids::{InvoiceId, ProductId};
use crate::domain::page::PageParams;
use crate::domain::page::cursor;
use crate::error::AppError;
use crate::models::credit_notes::{self, CreditNote};
use crate::models::invoices::{self, Invoice, InvoiceFilter, InvoiceLine};
use crate::models::products::{self, Product, ProductFilter};
use crate::services::activity_log;
use crate::services::orgs::{self, OrgRequest};
use crate::services::tokens::next_cursor;

/// A page of invoices with their lines (two queries, whatever the page size), newest first.
pub async fn list(
    pool: &Pool,
    org: &OrgRequest,
    statuses: Vec<InvoiceStatus>,
    from: Option<String>,
    to: Option<String>,
    page: PageParams,
) -> Result<(Vec<(Invoice, Vec<InvoiceLine>)>, Option<String>), AppError> {
    let limit = page.limit();
    let before = page.cursor.as_deref().map(cursor::decode).transpose();
    let filter = filter(statuses, from, to);
    let org = org.clone();
    // The access check, the page and its lines on one blocking-pool trip (each trip is two
    // thread hand-offs). The check still comes first: a stranger learns nothing from a 422.
    let (limit, mut rows, lines) = db::run(pool, move |conn| {
        let access = org.authorize(conn)?;
        let (limit, before, filter) = (limit?, before?, filter?);
        let rows = invoices::page(conn, &access.org.id, &filter, before, limit + 1)?;
        let ids: Vec<String> = rows
            .iter()
            .take(limit as usize)
            .map(|i| i.id.clone())
            .collect();
        let lines = invoices::lines_of(conn, &ids)?;
        Ok((limit, rows, lines))
    })
    .await?;
    let next = next_cursor(&mut rows, limit, |i| cursor::encode(i.issued_at, &i.id));
    Ok((with_lines(rows, lines), next))
}

/// The invoice list's filters, checked (all errors at once, each naming its parameter):
/// `statuses` (any of them; none: all), `from` and `to` as inclusive `YYYY-MM-DD` days in UTC,
/// the same days as the activity log's. The list, the CSV export and the export tasks share it.
pub fn filter(
    statuses: Vec<InvoiceStatus>,
    from: Option<String>,
    to: Option<String>,
) -> Result<InvoiceFilter, AppError> {
    let days = activity_log::parse(activity_log::Filters {
        from,
        to,
        ..Default::default()
    })?;
    Ok(InvoiceFilter {
        statuses,
        from: days.from,
        before: days.before,
    })
}

/// Each invoice with its own lines (`lines` as `invoices::lines_of` gives them, in position
/// order), the invoices' order kept.
pub fn with_lines(rows: Vec<Invoice>, lines: Vec<InvoiceLine>) -> Vec<(Invoice, Vec<InvoiceLine>)> {
    let mut by_invoice: std::collections::HashMap<String, Vec<InvoiceLine>> =
        std::collections::HashMap::new();
    for l in lines {
        by_invoice.entry(l.invoice_id.clone()).or_default().push(l);
    }
    rows.into_iter()
        .map(|i| {
            let own = by_invoice.remove(&i.id).unwrap_or_default();
            (i, own)
        })
        .collect()
}

/// One invoice with its lines and the credit notes its refunds issued.
pub async fn get(
    pool: &Pool,
    org: &OrgRequest,
    id: InvoiceId,
) -> Result<(Invoice, Vec<InvoiceLine>, Vec<CreditNote>), AppError> {
    let access = org.access(pool).await?;
    db::run(pool, move |conn| {
        let invoice = invoices::find(conn, &access.org.id, &id)?
            .ok_or_else(|| AppError::not_found("No such invoice."))?;
        let lines = invoices::lines(conn, &invoice.id)?;
        let notes = credit_notes::of_invoice(conn, &invoice.id)?;
        Ok((invoice, lines, notes))
    })
    .await
}

/// A page of products, newest first (holders of `products`).
pub async fn list_products(
    pool: &Pool,
    org: &OrgRequest,
    filter: ProductFilter,
    page: PageParams,
) -> Result<(Vec<Product>, Option<String>), AppError> {
    orgs::page_in(
        pool,
        org,
        page,
        move |c, org, before, limit| products::page(c, org, &filter, before, limit),
        |p| (p.created_at, &p.id),
    )
    .await
}

/// One product (holders of `products`).
pub async fn get_product(
    pool: &Pool,
    org: &OrgRequest,
    id: ProductId,
) -> Result<Product, AppError> {
    let access = org.access(pool).await?;
    db::run(pool, move |conn| {
        products::find(conn, &access.org.id, &id)?
            .ok_or_else(|| AppError::not_found("No such product."))
    })
    .await
}
