//! Issue 13, parts 4 and 5 (R26, R22): the streamed CSV export of invoices with the list's
//! filters, and exports by mail as tasks (`POST …/invoices/exports` → `GET /v1/tasks/{id}` →
//! a mailed download link that expires), offered by the organisation's deletion check.

use std::collections::HashSet;

use diesel::prelude::*;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{
    Bearer, TestApp, TestSession, get_json, link_token, ok, problem, send, send_with,
};

const HEADER: &str = "number,status,issued_at,due_at,paid_at,cancelled_at,currency,subtotal,vat,total,refunded,customer_name,customer_country,customer_vat_number,order_id,invoice_id";
const LINE_HEADER: &str = "number,status,issued_at,currency,customer_name,invoice_id,position,description,product_id,quantity,unit_price,vat_rate,net,vat,total,period_start,period_end";

/// An app whose jobs run, with a sign-in limit several users do not hit.
async fn app() -> TestApp {
    TestApp::builder()
        .env("LEMAN_AUTH_RATE_PER_IP", "1000")
        .spawn()
        .await
}

/// An invoice of `org` inserted as issued on `day` (`YYYY-MM-DD`, 10:00 UTC) with two lines:
/// `status`, addressed to `customer`. Returns its id.
async fn invoice(app: &TestApp, org: &str, day: &str, status: &str, customer: &str) -> String {
    use leman::domain::billing_states::InvoiceStatus;
    use leman::models::invoices::{self, Invoice, InvoiceLine};
    let issued = chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d")
        .unwrap()
        .and_hms_opt(10, 0, 0)
        .unwrap();
    let status = InvoiceStatus::parse(status).unwrap();
    let (org, customer) = (org.to_string(), customer.to_string());
    let issuer = app.services.config.invoice_issuer.clone();
    app.with_conn(move |c| {
        leman::db::write(c, |c| {
            let number = invoices::next_number(c, &issuer, 2026)?;
            let id = leman::db::new_id("inv");
            let line = |position: i32, description: &str, net: i64| InvoiceLine {
                id: leman::db::new_id("inl"),
                invoice_id: id.clone(),
                position,
                description: description.into(),
                product_id: None,
                quantity: 1,
                unit_price_minor: net,
                vat_rate: "8.1".into(),
                net_minor: net,
                vat_minor: (net * 81 + 500) / 1000,
                total_minor: net + (net * 81 + 500) / 1000,
                period_start: Some(issued),
                period_end: issued.checked_add_months(chrono::Months::new(12)),
            };
            let lines = vec![
                line(1, "Hébergement « Pro », 1 an", 12000),
                line(2, "Domain \"example.ch\"\nrenewal", 1500),
            ];
            let paid = matches!(
                status,
                InvoiceStatus::Paid | InvoiceStatus::PartiallyRefunded | InvoiceStatus::Refunded
            );
            let (net, vat) = (
                lines.iter().map(|l| l.net_minor).sum::<i64>(),
                lines.iter().map(|l| l.vat_minor).sum::<i64>(),
            );
            let row = Invoice {
                id: id.clone(),
                organization_id: org.clone(),
                issuer: issuer.clone(),
                number,
                status,
                currency: "CHF".into(),
                subtotal_minor: net,
                vat_minor: vat,
                total_minor: net + vat,
                refunded_minor: if status == InvoiceStatus::Refunded {
                    net + vat
                } else {
                    0
                },
                customer_name: customer.clone(),
                customer_address: "Rue du Rhône 12\n1204 Genève\nCH".into(),
                customer_country: "CH".into(),
                customer_vat_number: Some("CHE-123.456.789 MWST".into()),
                order_id: None,
                issued_at: issued,
                due_at: issued + chrono::Duration::days(30),
                paid_at: paid.then_some(issued),
                cancelled_at: (status == InvoiceStatus::Cancelled).then_some(issued),
                updated_at: issued,
            };
            invoices::insert(c, &row, &lines)?;
            Ok::<_, diesel::result::Error>(id)
        })
        .unwrap()
    })
    .await
}

/// `n` generated paid invoices (one line each), as `leman demo-data --invoices` makes them.
async fn generated(app: &TestApp, org: &str, n: u64) {
    let (config, org) = (app.services.config.clone(), org.to_string());
    app.with_conn(move |c| leman::services::demo::generate_invoices(c, &config, &org, n).unwrap())
        .await;
}

async fn csv_of(app: &TestApp, who: impl Bearer, org: &str, query: &str) -> reqwest::Response {
    send(
        app,
        Method::GET,
        &format!("/v1/orgs/{org}/invoices/export.csv{query}"),
        who,
        None,
    )
    .await
}

/// The records of a CSV file (header first), read by the `csv` crate's reader.
fn records(bytes: &[u8]) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(bytes)
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect()
}

/// Every invoice of the list with `query` (all pages).
async fn listed(app: &TestApp, who: &TestSession, org: &str, query: &str) -> Vec<Value> {
    let mut out = vec![];
    let mut cursor: Option<String> = None;
    loop {
        let sep = if query.is_empty() { "?" } else { "&" };
        let page = match &cursor {
            Some(c) => format!("{sep}limit=100&cursor={c}"),
            None => format!("{sep}limit=100"),
        };
        let v = get_json(app, who, &format!("/v1/orgs/{org}/invoices{query}{page}")).await;
        out.extend(v["data"].as_array().unwrap().iter().cloned());
        match v["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => return out,
        }
    }
}

fn or_empty(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

/// The CSV row the list's invoice `i` must give.
fn row_of(i: &Value) -> Vec<String> {
    vec![
        or_empty(&i["number"]),
        or_empty(&i["status"]),
        or_empty(&i["issued_at"]),
        or_empty(&i["due_at"]),
        or_empty(&i["paid_at"]),
        or_empty(&i["cancelled_at"]),
        or_empty(&i["currency"]),
        or_empty(&i["subtotal"]["amount"]),
        or_empty(&i["vat"]["amount"]),
        or_empty(&i["total"]["amount"]),
        or_empty(&i["refunded"]["amount"]),
        or_empty(&i["customer"]["name"]),
        or_empty(&i["customer"]["country"]),
        or_empty(&i["customer"]["vat_number"]),
        or_empty(&i["order_id"]),
        or_empty(&i["id"]),
    ]
}

/// An organisation of a new signed-in user with six invoices over March to May 2026, of every
/// status, addressed to names that need quoting. Returns (owner, org).
async fn billed_org(app: &TestApp, email: &str) -> (TestSession, String) {
    let (_, owner) = app.signed_in(email).await;
    let org = app.create_org(&owner, "Müller Design Sàrl").await;
    for (day, status, name) in [
        ("2026-03-01", "paid", "Zoë Müller-Łukasiewicz"),
        ("2026-03-31", "open", "Acme, Inc."),
        ("2026-04-01", "refunded", "Le \"Petit\" Café"),
        ("2026-04-15", "cancelled", "Line\nbreak GmbH"),
        ("2026-04-30", "partially_refunded", "日本語 株式会社"),
        ("2026-05-01", "paid", "=SUM(A1:A2)"),
    ] {
        invoice(app, &org, day, status, name).await;
    }
    (owner, org)
}

#[tokio::test]
async fn csv_export_round_trips_through_a_csv_reader_with_the_lists_filters() {
    let app = app().await;
    let (owner, org) = billed_org(&app, "csv-owner@example.ch").await;
    for query in [
        "",
        "?status=paid",
        "?status=paid&status=refunded&status=partially_refunded",
        "?from=2026-03-31&to=2026-04-30",
        "?from=2026-04-01",
        "?to=2026-03-31",
        "?status=open&status=cancelled&from=2026-03-01&to=2026-04-15",
        "?from=2026-06-01",
    ] {
        let res = csv_of(&app, &owner, &org, query).await;
        assert_eq!(res.status(), 200, "{query}");
        assert_eq!(
            res.headers()["content-type"],
            "text/csv; charset=utf-8",
            "{query}"
        );
        let disposition = res.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .to_string();
        assert!(
            disposition.starts_with(&format!("attachment; filename=\"invoices-{org}-"))
                && disposition.ends_with(".csv\""),
            "{disposition}"
        );
        let bytes = res.bytes().await.unwrap();
        // UTF-8, no byte-order mark, CRLF line ends.
        let text = std::str::from_utf8(&bytes).unwrap();
        assert!(text.starts_with(&format!("{HEADER}\r\n")), "{text}");
        assert!(text.ends_with("\r\n"));
        let mut rows = records(&bytes);
        assert_eq!(rows.remove(0).join(","), HEADER);
        let expected: Vec<Vec<String>> = listed(&app, &owner, &org, query)
            .await
            .iter()
            .map(row_of)
            .collect();
        assert_eq!(rows, expected, "{query}");
    }
    // The filters as days: inclusive on both ends.
    let april = records(
        &csv_of(&app, &owner, &org, "?from=2026-04-01&to=2026-04-30")
            .await
            .bytes()
            .await
            .unwrap(),
    );
    assert_eq!(april.len(), 4, "header + 3 invoices: {april:?}");
    // Unicode, commas, quotes and line breaks are quoted and come back as they were.
    let all = records(&csv_of(&app, &owner, &org, "").await.bytes().await.unwrap());
    let names: HashSet<&str> = all.iter().map(|r| r[11].as_str()).collect();
    for name in [
        "Zoë Müller-Łukasiewicz",
        "Acme, Inc.",
        "Le \"Petit\" Café",
        "Line\nbreak GmbH",
        "日本語 株式会社",
        "=SUM(A1:A2)",
    ] {
        assert!(names.contains(name), "{name} in {names:?}");
    }
    let raw = String::from_utf8(
        csv_of(&app, &owner, &org, "")
            .await
            .bytes()
            .await
            .unwrap()
            .to_vec(),
    )
    .unwrap();
    assert!(raw.contains(",\"Acme, Inc.\","), "{raw}");
    assert!(raw.contains(",\"Le \"\"Petit\"\" Café\","), "{raw}");
    assert!(raw.contains(",\"Line\nbreak GmbH\","), "{raw}");
    // Amounts with a decimal point and two decimals.
    let paid = all.iter().find(|r| r[1] == "paid").unwrap();
    assert_eq!(
        (paid[7].as_str(), paid[8].as_str(), paid[9].as_str()),
        ("135.00", "10.94", "145.94")
    );
}

#[tokio::test]
async fn csv_export_with_lines_gives_one_row_per_line() {
    let app = app().await;
    let (owner, org) = billed_org(&app, "csv-lines@example.ch").await;
    let res = csv_of(&app, &owner, &org, "?lines=true&status=paid").await;
    assert_eq!(res.status(), 200);
    let mut rows = records(&res.bytes().await.unwrap());
    assert_eq!(rows.remove(0).join(","), LINE_HEADER);
    let list = listed(&app, &owner, &org, "?status=paid").await;
    let mut expected = vec![];
    for i in &list {
        for l in i["lines"].as_array().unwrap() {
            expected.push(vec![
                or_empty(&i["number"]),
                or_empty(&i["status"]),
                or_empty(&i["issued_at"]),
                or_empty(&i["currency"]),
                or_empty(&i["customer"]["name"]),
                or_empty(&i["id"]),
                l["position"].to_string(),
                or_empty(&l["description"]),
                or_empty(&l["product_id"]),
                l["quantity"].to_string(),
                or_empty(&l["unit_price"]["amount"]),
                or_empty(&l["vat_rate"]),
                or_empty(&l["net"]["amount"]),
                or_empty(&l["vat"]["amount"]),
                or_empty(&l["total"]["amount"]),
                or_empty(&l["period_start"]),
                or_empty(&l["period_end"]),
            ]);
        }
    }
    assert_eq!(expected.len(), 4, "two paid invoices of two lines");
    assert_eq!(rows, expected);
    assert_eq!(rows[1][7], "Domain \"example.ch\"\nrenewal");
}

#[tokio::test]
async fn csv_export_of_an_organisation_without_invoices_is_the_header_alone() {
    let app = app().await;
    let (_, owner) = app.signed_in("csv-empty@example.ch").await;
    let org = app.create_org(&owner, "Empty").await;
    for (query, header) in [("", HEADER), ("?lines=true", LINE_HEADER)] {
        let res = csv_of(&app, &owner, &org, query).await;
        assert_eq!(res.status(), 200);
        assert_eq!(res.text().await.unwrap(), format!("{header}\r\n"));
    }
}

#[tokio::test]
async fn csv_export_streams_every_invoice_once_in_the_lists_order_across_batches() {
    let app = app().await;
    let (_, owner) = app.signed_in("csv-many@example.ch").await;
    let org = app.create_org(&owner, "Many").await;
    generated(&app, &org, 2_500).await;
    let res = csv_of(&app, &owner, &org, "").await;
    assert_eq!(res.status(), 200);
    // Streamed: chunked, no length known in advance.
    assert!(res.headers().get("content-length").is_none());
    let mut rows = records(&res.bytes().await.unwrap());
    rows.remove(0);
    assert_eq!(rows.len(), 2_500);
    let ids: Vec<String> = rows.iter().map(|r| r[15].clone()).collect();
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), 2_500, "each once");
    let o = org.clone();
    let expected: Vec<String> = app
        .with_conn(move |c| {
            use leman::db::schema::invoices as i;
            i::table
                .filter(i::organization_id.eq(o))
                .order((i::issued_at.desc(), i::id.desc()))
                .select(i::id)
                .load(c)
                .unwrap()
        })
        .await;
    assert_eq!(ids, expected, "newest first, as the list");
}

#[tokio::test]
async fn a_failure_midway_cuts_the_csv_transfer_instead_of_ending_it_short() {
    let app = app().await;
    let (_, owner) = app.signed_in("csv-broken@example.ch").await;
    let org = app.create_org(&owner, "Broken").await;
    generated(&app, &org, 600).await;
    // The oldest invoice cannot be read (its status is no status): the second batch fails,
    // after the answer began with a 200 and the first 500 rows.
    let o = org.clone();
    app.with_conn(move |c| {
        use leman::db::schema::invoices as i;
        let oldest: String = i::table
            .filter(i::organization_id.eq(&o))
            .order((i::issued_at.asc(), i::id.asc()))
            .select(i::id)
            .first(c)
            .unwrap();
        diesel::update(i::table.find(oldest))
            .set(i::status.eq("bogus"))
            .execute(c)
            .unwrap();
    })
    .await;
    let res = csv_of(&app, &owner, &org, "").await;
    assert_eq!(res.status(), 200);
    assert!(
        res.bytes().await.is_err(),
        "the transfer must break, not end"
    );
}

#[tokio::test]
async fn csv_export_refuses_bad_filters_with_422() {
    let app = app().await;
    let (owner, org) = billed_org(&app, "csv-bad@example.ch").await;
    for (query, field) in [
        ("?status=unpaid", "status"),
        ("?from=2026-13-01", "from"),
        ("?to=yesterday", "to"),
        ("?from=", "from"),
        ("?lines=maybe", "lines"),
    ] {
        let body = problem(
            csv_of(&app, &owner, &org, query).await,
            422,
            "validation_failed",
        )
        .await;
        assert_eq!(body["errors"][0]["field"], field, "{query}: {body}");
    }
}

#[tokio::test]
async fn csv_export_needs_accounting_in_the_organisation() {
    let app = app().await;
    let (owner, org) = billed_org(&app, "csv-access@example.ch").await;
    let (member, member_s) = app.signed_in("csv-member@example.ch").await;
    app.add_member(&org, &member.id, "member", &["products"])
        .await;
    problem(
        csv_of(&app, &member_s, &org, "").await,
        403,
        "permission_denied",
    )
    .await;
    let (accountant, accountant_s) = app.signed_in("csv-accountant@example.ch").await;
    app.add_member(&org, &accountant.id, "member", &["accounting"])
        .await;
    assert_eq!(csv_of(&app, &accountant_s, &org, "").await.status(), 200);
    // Another organisation's caller: 404.
    let (_, outsider) = app.signed_in("csv-outsider@example.ch").await;
    app.create_org(&outsider, "Other").await;
    problem(csv_of(&app, &outsider, &org, "").await, 404, "not_found").await;
    problem(
        csv_of(&app, &outsider, &org, "?status=paid&lines=true").await,
        404,
        "not_found",
    )
    .await;
    // Tokens need billing:read.
    let read = app
        .token_of_kind(&accountant.id, "personal", &["billing:read"])
        .await;
    assert_eq!(csv_of(&app, &read, &org, "").await.status(), 200);
    let other = app
        .token_of_kind(&accountant.id, "personal", &["orgs:read"])
        .await;
    problem(
        csv_of(&app, &other, &org, "").await,
        403,
        "insufficient_scope",
    )
    .await;
    let anonymous = app
        .client
        .get(app.url(&format!("/v1/orgs/{org}/invoices/export.csv")))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    // `export.csv` is not an invoice id; a real invoice is still found next to it.
    let first = &listed(&app, &owner, &org, "").await[0];
    let id = first["id"].as_str().unwrap();
    get_json(&app, &owner, &format!("/v1/orgs/{org}/invoices/{id}")).await;
    let res = send(
        &app,
        Method::GET,
        &format!("/v1/orgs/{org}/invoices/exports"),
        &owner,
        None,
    )
    .await;
    problem(res, 404, "not_found").await;
}

async fn create_export(
    app: &TestApp,
    who: &TestSession,
    org: &str,
    body: Value,
) -> reqwest::Response {
    send(
        app,
        Method::POST,
        &format!("/v1/orgs/{org}/invoices/exports"),
        who,
        Some(body),
    )
    .await
}

/// Polls the task until it ended; returns its view.
async fn finished(app: &TestApp, who: &TestSession, id: &str) -> Value {
    for _ in 0..500 {
        let t = get_json(app, who, &format!("/v1/tasks/{id}")).await;
        if t["status"] == "succeeded" || t["status"] == "failed" {
            return t;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("task {id} did not finish");
}

/// The path and query of the mailed link to task `id`'s file.
async fn mailed_link(app: &TestApp, email: &str, id: &str) -> String {
    let text = app
        .wait_for_mail_containing(email, &format!("/v1/tasks/{id}/download?token="))
        .await;
    // The link is under LEMAN_PUBLIC_API_URL (its default here).
    assert!(
        text.contains(&format!(
            "http://127.0.0.1:8080/v1/tasks/{id}/download?token="
        )),
        "{text}"
    );
    let token = link_token(&text, "/download");
    assert!(token.len() >= 43, "a 256-bit secret: {token}");
    format!("/v1/tasks/{id}/download?token={token}")
}

#[tokio::test]
async fn csv_export_task_runs_end_to_end_and_mails_a_link_that_expires() {
    let app = app().await;
    let (user, owner) = app.signed_in("task-owner@example.ch").await;
    let org = app.create_org(&owner, "Müller Design Sàrl").await;
    for day in ["2026-02-01", "2026-02-02", "2026-03-01"] {
        invoice(&app, &org, day, "paid", "Zoë, \"Z\"").await;
    }
    invoice(&app, &org, "2026-02-03", "open", "Open Ltd").await;
    let body =
        json!({"format": "csv", "status": ["paid"], "from": "2026-02-01", "to": "2026-02-28"});
    let res = create_export(&app, &owner, &org, body).await;
    assert_eq!(res.status(), 202);
    let location = res.headers()["location"].to_str().unwrap().to_string();
    let task = res.json::<Value>().await.unwrap();
    let id = task["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("task_"));
    assert_eq!(location, format!("/v1/tasks/{id}"));
    assert_eq!(task["status"], "queued");
    assert_eq!(task["kind"], "invoice_export");
    assert_eq!(task["organization_id"], org.as_str());
    assert_eq!(task["result"], Value::Null);
    let done = finished(&app, &owner, &id).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(done["progress"], json!({"done": 2, "total": 2}));
    assert!(done["started_at"].is_string() && done["finished_at"].is_string());
    assert_eq!(done["error"], Value::Null);
    let result = &done["result"];
    assert_eq!(result["count"], 2);
    assert_eq!(result["content_type"], "text/csv; charset=utf-8");
    assert_eq!(
        result["download_url"],
        format!("http://127.0.0.1:8080/v1/tasks/{id}/download")
    );
    let finished_at: chrono::DateTime<chrono::Utc> =
        done["finished_at"].as_str().unwrap().parse().unwrap();
    let expires_at: chrono::DateTime<chrono::Utc> =
        result["expires_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(expires_at - finished_at, chrono::Duration::days(7));
    // The mail carries the link; the link (no sign-in) gives the same CSV as the route.
    let link = mailed_link(&app, &user.email, &id).await;
    let res = app.client.get(app.url(&link)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "text/csv; charset=utf-8");
    assert_eq!(
        res.headers()["content-disposition"],
        format!(
            "attachment; filename=\"{}\"",
            result["filename"].as_str().unwrap()
        )
        .as_str()
    );
    let file = res.bytes().await.unwrap();
    assert_eq!(file.len() as i64, result["size_bytes"].as_i64().unwrap());
    let direct = csv_of(
        &app,
        &owner,
        &org,
        "?status=paid&from=2026-02-01&to=2026-02-28",
    )
    .await
    .bytes()
    .await
    .unwrap();
    assert_eq!(file, direct);
    assert_eq!(records(&file).len(), 3);
    // The requester signed in downloads it without the token too.
    let res = send(
        &app,
        Method::GET,
        &format!("/v1/tasks/{id}/download"),
        &owner,
        None,
    )
    .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.bytes().await.unwrap(), direct);
    // A wrong token, no token and no sign-in, a malformed id: nothing.
    let wrong =
        format!("/v1/tasks/{id}/download?token=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    problem(
        app.client.get(app.url(&wrong)).send().await.unwrap(),
        404,
        "not_found",
    )
    .await;
    let bare = app
        .client
        .get(app.url(&format!("/v1/tasks/{id}/download")))
        .send()
        .await
        .unwrap();
    assert_eq!(bare.status(), 401);
    problem(
        app.client
            .get(app.url("/v1/tasks/task_x/download?token=abc"))
            .send()
            .await
            .unwrap(),
        404,
        "not_found",
    )
    .await;
    // Another user: the task does not exist for them, nor its file (without the link).
    let (_, stranger) = app.signed_in("task-stranger@example.ch").await;
    problem(
        send(
            &app,
            Method::GET,
            &format!("/v1/tasks/{id}"),
            &stranger,
            None,
        )
        .await,
        404,
        "not_found",
    )
    .await;
    problem(
        send(
            &app,
            Method::GET,
            &format!("/v1/tasks/{id}/download"),
            &stranger,
            None,
        )
        .await,
        404,
        "not_found",
    )
    .await;
    // Seven days later: 410, for the link and for the owner.
    let t = id.clone();
    app.with_conn(move |c| {
        use leman::db::schema::task_files as f;
        diesel::update(f::table.find(t))
            .set(f::expires_at.eq(leman::db::now() - chrono::Duration::seconds(1)))
            .execute(c)
            .unwrap();
    })
    .await;
    problem(
        app.client.get(app.url(&link)).send().await.unwrap(),
        410,
        "download_expired",
    )
    .await;
    problem(
        send(
            &app,
            Method::GET,
            &format!("/v1/tasks/{id}/download"),
            &owner,
            None,
        )
        .await,
        410,
        "download_expired",
    )
    .await;
    // The daily purge removes the expired file; the link stays gone.
    let out = app.cli(&["jobs", "run", "purge_task_files"], &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let t = id.clone();
    let (files, chunks): (i64, i64) = app
        .with_conn(move |c| {
            use leman::db::schema::{task_file_chunks as k, task_files as f};
            (
                f::table
                    .filter(f::task_id.eq(&t))
                    .count()
                    .get_result(c)
                    .unwrap(),
                k::table
                    .filter(k::task_id.eq(&t))
                    .count()
                    .get_result(c)
                    .unwrap(),
            )
        })
        .await;
    assert_eq!((files, chunks), (0, 0));
    problem(
        app.client.get(app.url(&link)).send().await.unwrap(),
        410,
        "download_expired",
    )
    .await;
    // One activity record for the request.
    assert_eq!(
        crate::helpers::count(
            &app.activities_of_org(&org).await,
            "invoice.export_requested"
        ),
        1
    );
}

#[tokio::test]
async fn pdf_zip_export_holds_one_pdf_per_paid_or_refunded_invoice_named_by_number() {
    let app = app().await;
    let (user, owner) = app.signed_in("zip-owner@example.ch").await;
    let org = app.create_org(&owner, "Zip").await;
    let mut with_pdf = vec![];
    for (day, status) in [
        ("2026-01-10", "paid"),
        ("2026-01-11", "open"),
        ("2026-01-12", "refunded"),
        ("2026-01-13", "cancelled"),
        ("2026-01-14", "partially_refunded"),
    ] {
        let id = invoice(&app, &org, day, status, "Zip SA").await;
        if ["paid", "refunded", "partially_refunded"].contains(&status) {
            with_pdf.push(id);
        }
    }
    // Open or cancelled invoices have no final PDF: refused, not silently left out.
    let res = create_export(
        &app,
        &owner,
        &org,
        json!({"format": "pdf_zip", "status": ["paid", "open"]}),
    )
    .await;
    let body = problem(res, 422, "validation_failed").await;
    assert_eq!(body["errors"][0]["field"], "/status", "{body}");
    let res = create_export(
        &app,
        &owner,
        &org,
        json!({"format": "pdf_zip", "lines": true}),
    )
    .await;
    let body = problem(res, 422, "validation_failed").await;
    assert_eq!(body["errors"][0]["field"], "/lines", "{body}");
    let res = create_export(&app, &owner, &org, json!({"format": "pdf_zip"})).await;
    let task = ok(res, 202).await;
    let id = task["id"].as_str().unwrap();
    let done = finished(&app, &owner, id).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(done["result"]["count"], 3);
    assert_eq!(done["result"]["content_type"], "application/zip");
    let link = mailed_link(&app, &user.email, id).await;
    let res = app.client.get(app.url(&link)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/zip");
    let bytes = res.bytes().await.unwrap();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let mut names = vec![];
    for k in 0..zip.len() {
        let mut entry = zip.by_index(k).unwrap();
        assert_eq!(entry.compression(), zip::CompressionMethod::Deflated);
        let mut pdf = vec![];
        std::io::Read::read_to_end(&mut entry, &mut pdf).unwrap();
        let name = entry.name().unwrap().to_string();
        assert!(pdf.starts_with(b"%PDF"), "{name}");
        names.push(name);
    }
    let ids = with_pdf.clone();
    let mut expected: Vec<String> = app
        .with_conn(move |c| {
            use leman::db::schema::invoices as i;
            i::table
                .filter(i::id.eq_any(ids))
                .select(i::number)
                .load::<String>(c)
                .unwrap()
        })
        .await
        .into_iter()
        .map(|n| format!("invoice-{n}.pdf"))
        .collect();
    names.sort();
    expected.sort();
    assert_eq!(names, expected);
}

#[tokio::test]
async fn pdf_zip_export_of_more_than_ten_thousand_invoices_is_refused() {
    let app = app().await;
    let (_, owner) = app.signed_in("zip-big@example.ch").await;
    let org = app.create_org(&owner, "Big").await;
    generated(&app, &org, 10_001).await;
    let res = create_export(&app, &owner, &org, json!({"format": "pdf_zip"})).await;
    problem(res, 422, "export_too_large").await;
    // Narrowed by status: 10,000 is allowed (no task run here: the PDFs would take a while).
    let tasks: i64 = app
        .with_conn(|c| {
            leman::db::schema::tasks::table
                .count()
                .get_result(c)
                .unwrap()
        })
        .await;
    assert_eq!(tasks, 0);
    // A CSV of them all is fine.
    let res = create_export(&app, &owner, &org, json!({"format": "csv"})).await;
    assert_eq!(res.status(), 202);
}

#[tokio::test]
async fn export_request_replayed_with_its_idempotency_key_gives_the_same_task() {
    let app = app().await;
    let (owner, org) = billed_org(&app, "replay@example.ch").await;
    let path = format!("/v1/orgs/{org}/invoices/exports");
    let body = json!({"format": "csv"});
    let first = send_with(
        &app,
        Method::POST,
        &path,
        &owner,
        Some(body.clone()),
        &[("Idempotency-Key", "exp-1")],
    )
    .await;
    assert_eq!(first.status(), 202);
    let first = first.json::<Value>().await.unwrap();
    let again = send_with(
        &app,
        Method::POST,
        &path,
        &owner,
        Some(body),
        &[("Idempotency-Key", "exp-1")],
    )
    .await;
    assert_eq!(again.status(), 202);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let again = again.json::<Value>().await.unwrap();
    assert_eq!(again["id"], first["id"]);
    let tasks: i64 = app
        .with_conn(|c| {
            leman::db::schema::tasks::table
                .count()
                .get_result(c)
                .unwrap()
        })
        .await;
    assert_eq!(tasks, 1);
}

#[tokio::test]
async fn export_tasks_need_accounting_and_stay_their_requesters() {
    let app = app().await;
    let (owner, org) = billed_org(&app, "task-access@example.ch").await;
    let body = json!({"format": "csv"});
    let (member, member_s) = app.signed_in("task-member@example.ch").await;
    app.add_member(&org, &member.id, "member", &["domains"])
        .await;
    problem(
        create_export(&app, &member_s, &org, body.clone()).await,
        403,
        "permission_denied",
    )
    .await;
    let (_, outsider) = app.signed_in("task-outsider@example.ch").await;
    problem(
        create_export(&app, &outsider, &org, body.clone()).await,
        404,
        "not_found",
    )
    .await;
    let res = create_export(&app, &owner, &org, json!({"format": "xlsx"})).await;
    problem(res, 422, "validation_failed").await;
    let res = create_export(
        &app,
        &owner,
        &org,
        json!({"format": "csv", "from": "2026-02-30"}),
    )
    .await;
    let b = problem(res, 422, "validation_failed").await;
    assert_eq!(b["errors"][0]["field"], "/from", "{b}");
    // A token: billing:read creates and reads; another scope does neither.
    let (accountant, accountant_s) = app.signed_in("task-accountant@example.ch").await;
    app.add_member(&org, &accountant.id, "member", &["accounting"])
        .await;
    let read = app
        .token_of_kind(&accountant.id, "personal", &["billing:read"])
        .await;
    let res = send(
        &app,
        Method::POST,
        &format!("/v1/orgs/{org}/invoices/exports"),
        &read,
        Some(body.clone()),
    )
    .await;
    let task = ok(res, 202).await;
    let id = task["id"].as_str().unwrap();
    get_json(&app, &read, &format!("/v1/tasks/{id}")).await;
    let other = app
        .token_of_kind(&accountant.id, "personal", &["account:read"])
        .await;
    problem(
        send(&app, Method::GET, &format!("/v1/tasks/{id}"), &other, None).await,
        403,
        "insufficient_scope",
    )
    .await;
    // The requester's task is theirs alone: not the organisation's owner's.
    problem(
        send(&app, Method::GET, &format!("/v1/tasks/{id}"), &owner, None).await,
        404,
        "not_found",
    )
    .await;
    let done = finished(&app, &accountant_s, id).await;
    assert_eq!(done["status"], "succeeded");
    // Removed from the organisation: its link gives nothing any more.
    let link = mailed_link(&app, &accountant.email, id).await;
    assert_eq!(
        app.client
            .get(app.url(&link))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let (o, u) = (org.clone(), accountant.id.clone());
    app.with_conn(move |c| {
        use leman::db::schema::memberships as m;
        diesel::delete(m::table.find((o, u))).execute(c).unwrap();
    })
    .await;
    problem(
        app.client.get(app.url(&link)).send().await.unwrap(),
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn an_export_whose_requester_lost_accounting_fails_and_says_so_by_mail() {
    let app = TestApp::builder().without_jobs().spawn().await;
    let (owner, org) = billed_org(&app, "task-fail-owner@example.ch").await;
    let (accountant, accountant_s) = app.signed_in("task-fail@example.ch").await;
    app.add_member(&org, &accountant.id, "member", &["accounting"])
        .await;
    let task = ok(
        create_export(&app, &accountant_s, &org, json!({"format": "csv"})).await,
        202,
    )
    .await;
    let id = task["id"].as_str().unwrap();
    // Queued until a worker takes it.
    let queued = get_json(&app, &accountant_s, &format!("/v1/tasks/{id}")).await;
    assert_eq!(queued["status"], "queued");
    assert_eq!(queued["progress"], json!({"done": 0, "total": null}));
    let (o, u) = (org.clone(), accountant.id.clone());
    app.with_conn(move |c| {
        use leman::db::schema::memberships as m;
        diesel::update(m::table.find((o, u)))
            .set(m::permissions.eq("[]"))
            .execute(c)
            .unwrap();
    })
    .await;
    let runner = app.services.runner();
    while runner.run_once().await.unwrap() {}
    let failed = get_json(&app, &accountant_s, &format!("/v1/tasks/{id}")).await;
    assert_eq!(failed["status"], "failed", "{failed}");
    assert_eq!(failed["error"]["code"], "access_revoked");
    assert_eq!(failed["result"], Value::Null);
    app.wait_for_mail_containing(&accountant.email, "could not be made")
        .await;
    let _ = owner;
}

#[tokio::test]
async fn the_deletion_check_offers_to_mail_the_paid_invoices() {
    let app = app().await;
    let (_, owner) = app.signed_in("r22-owner@example.ch").await;
    let org = app.create_org(&owner, "Leaving").await;
    let check = get_json(&app, &owner, &format!("/v1/orgs/{org}/deletion-check")).await;
    assert_eq!(check["offers"], json!([]), "nothing paid, nothing to offer");
    invoice(&app, &org, "2026-01-05", "paid", "Leaving GmbH").await;
    invoice(&app, &org, "2026-01-06", "refunded", "Leaving GmbH").await;
    invoice(&app, &org, "2026-01-07", "cancelled", "Leaving GmbH").await;
    let check = get_json(&app, &owner, &format!("/v1/orgs/{org}/deletion-check")).await;
    let offer = &check["offers"][0];
    assert_eq!(offer["code"], "mail_paid_invoices");
    assert_eq!(offer["operation"], "create_invoice_export");
    assert_eq!(offer["body"]["format"], "pdf_zip");
    // The offer, called as given, mails the paid and refunded invoices.
    let path = offer["path"].as_str().unwrap();
    assert_eq!(path, format!("/v1/orgs/{org}/invoices/exports"));
    let task = ok(
        send(
            &app,
            Method::POST,
            path,
            &owner,
            Some(offer["body"].clone()),
        )
        .await,
        202,
    )
    .await;
    let done = finished(&app, &owner, task["id"].as_str().unwrap()).await;
    assert_eq!(done["result"]["count"], 2, "{done}");
}

/// The activity walk's scenario (`activity_record.rs`): one record per export asked.
pub async fn activity_scenario(app: &TestApp, operation: &str, email: &str) -> i64 {
    assert_eq!(operation, "create_invoice_export");
    let (_, owner) = app.signed_in(email).await;
    let org = app.create_org(&owner, "Export").await;
    let all = || {
        app.with_conn(|c| {
            leman::db::schema::activities::table
                .count()
                .get_result::<i64>(c)
                .unwrap()
        })
    };
    let before = all().await;
    ok(
        create_export(app, &owner, &org, json!({"format": "csv"})).await,
        202,
    )
    .await;
    let added = all().await - before;
    let mine = app.activities_of_org(&org).await;
    assert_eq!(crate::helpers::count(&mine, "invoice.export_requested"), 1);
    added
}

/// R22 (attack review): the paid invoices asked for during the deletion steps still reach their
/// requester when the organisation is deleted before the export ran.
#[tokio::test]
async fn r22_paid_invoices_asked_for_then_deleting_the_organisation_still_arrive() {
    let app = TestApp::builder()
        .env("LEMAN_AUTH_RATE_PER_IP", "1000")
        .without_jobs()
        .spawn()
        .await;
    let (owner_user, owner) = app.signed_in("r22-late@example.ch").await;
    let org = app.create_org(&owner, "Gone Soon").await;
    invoice(&app, &org, "2026-01-05", "paid", "Gone Soon GmbH").await;
    let task = ok(
        create_export(
            &app,
            &owner,
            &org,
            json!({"format": "pdf_zip", "status": ["paid"]}),
        )
        .await,
        202,
    )
    .await;
    let res = send(
        &app,
        Method::DELETE,
        &format!("/v1/orgs/{org}"),
        &owner,
        None,
    )
    .await;
    assert!(res.status().is_success(), "{}", res.status());
    let runner = leman::jobs::Runner::new(
        leman::jobs::JobContext::new(app.services.clone()),
        leman::jobs::registry(),
    );
    while runner.run_once().await.unwrap() {}
    let done = get_json(
        &app,
        &owner,
        &format!("/v1/tasks/{}", task["id"].as_str().unwrap()),
    )
    .await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(done["result"]["count"], 1, "{done}");
    let mail = app
        .wait_for_mail_containing(&owner_user.email, "/download?token=")
        .await;
    assert!(mail.contains("Gone Soon"), "{mail}");
}

#[tokio::test]
async fn r26_an_export_names_at_most_five_statuses_as_its_schema_says() {
    let app = app().await;
    let (_, owner) = app.signed_in("export-statuses@example.ch").await;
    let org = app.create_org(&owner, "Statuses Sàrl").await;
    let six = json!({"format": "csv", "status": ["cancelled", "paid", "cancelled", "refunded", "paid", "paid"]});
    let body = problem(
        create_export(&app, &owner, &org, six).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "/status", "{body}");
    let five = json!({"format": "csv", "status": ["paid", "refunded", "open", "cancelled", "partially_refunded"]});
    assert_eq!(create_export(&app, &owner, &org, five).await.status(), 202);
}
