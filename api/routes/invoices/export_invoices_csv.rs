use actix_web::http::header;
use actix_web::{HttpResponse, get, web};
use futures_util::StreamExt;
use serde::Deserialize;
use utoipa::IntoParams;

use super::list_invoices::InvoiceQuery;
use crate::context::Services;
use crate::error::AppError;
use crate::error::responses::{Common, OrgAccess, Query as QueryErrors, Unauthenticated};
use crate::http::Query;
use crate::http::org::{AccountingReads, InOrg, Requirement};
use crate::services::invoice_csv::{self, Layout};
use crate::services::invoices;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CsvQuery {
    /// One row per invoice line instead of one per invoice.
    #[serde(default)]
    #[param(example = false)]
    pub lines: bool,
}

/// Export the organisation's invoices as CSV
///
/// The organisation's invoices as CSV (R26), with the list's filters (`status` repeated, `from`
/// and `to` inclusive UTC days), newest first as the list; streamed in batches of 500, so any
/// number of invoices is exported in constant memory. RFC 4180 (comma, CRLF, quotes around
/// fields holding a comma, a quote or a line break), UTF-8 without a byte-order mark, values as
/// they are. Amounts are decimals with a point and the currency's two decimals (`1234.50`);
/// times are RFC 3339 UTC; empty fields are absent values. The header, stable:
///
/// - one row per invoice: `number,status,issued_at,due_at,paid_at,cancelled_at,currency,subtotal,vat,total,refunded,customer_name,customer_country,customer_vat_number,order_id,invoice_id`
/// - `?lines=true`, one row per line: `number,status,issued_at,currency,customer_name,invoice_id,position,description,product_id,quantity,unit_price,vat_rate,net,vat,total,period_start,period_end`
///
/// Should the export fail midway, the transfer is cut (no final chunk): a client never gets a
/// shortened file as if whole. Holders of `accounting`. Tokens need `billing:read`.
#[utoipa::path(
    operation_id = "export_invoices_csv",
    tag = "billing",
    security(("bearer_jwt" = []), ("personal_token" = [])),
    params(("org_id" = String, Path, description = "The organisation's id (`org_…`)", example = "org_01936d7a6b2f7c3e9d4a5b6c7d8e9f00"), InvoiceQuery, CsvQuery),
    extensions(("x-leman-permission" = json!(AccountingReads::NEED)), ("x-leman-scope" = json!(AccountingReads::SCOPE))),
    responses(
        (status = 200, description = "The invoices as CSV, as an attachment (`Content-Disposition`)", content_type = "text/csv", body = String,
         headers(("Content-Disposition" = String, description = "`attachment; filename=\"invoices-<org_id>-<YYYY-MM-DD>.csv\"`")),
         example = "number,status,issued_at,due_at,paid_at,cancelled_at,currency,subtotal,vat,total,refunded,customer_name,customer_country,customer_vat_number,order_id,invoice_id\r\n2026-000042,paid,2026-11-26T09:00:00Z,2026-12-26T09:00:00Z,2026-11-26T09:00:01Z,,CHF,11.00,0.89,11.89,0.00,\"Müller Design, Sàrl\",CH,,ord_01936d7a6b2f7c3e9d4a5b6c7d8e9f11,inv_01936d7a6b2f7c3e9d4a5b6c7d8e9f13\r\n"),
        Unauthenticated,
        OrgAccess,
        QueryErrors,
        Common,
    )
)]
#[get("/orgs/{org_id}/invoices/export.csv")]
pub async fn export_invoices_csv(
    org: InOrg<AccountingReads>,
    services: web::Data<Services>,
    query: Query<InvoiceQuery>,
    csv: Query<CsvQuery>,
) -> Result<HttpResponse, AppError> {
    let q = query.0;
    let filter = invoices::filter(q.status, q.from, q.to)?;
    let access = org.access(&services.pool).await?;
    let layout = if csv.0.lines {
        Layout::Lines
    } else {
        Layout::Invoices
    };
    let filename = format!(
        "invoices-{}-{}.csv",
        access.org.id,
        crate::db::now().format("%Y-%m-%d")
    );
    let body =
        invoice_csv::stream(services.pool.clone(), access.org.id, filter, layout).map(|piece| {
            piece
                .map(web::Bytes::from)
                .map_err(|e| std::io::Error::other(e.to_string()))
        });
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{filename}\""),
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .streaming(body))
}
