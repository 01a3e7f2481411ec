//! Part 1: the read path against bare actix-web + diesel handlers doing only the same queries,
//! load from `wrk` pinned to one core, both servers (this process, release) pinned to the other.

use actix_web::{App, HttpResponse, HttpServer, web};
use diesel::prelude::*;

use super::load::{self, Spread};

/// Alternating rounds of (bare, Leman); the median ratio is held to the budget.
const ROUNDS: usize = 7;
const ROUND_SECS: u64 = 3;
const WARM_UP_SECS: u64 = 2;
/// The invoice page measured.
pub const PAGE: i64 = 50;

/// The baselines, one server: `/row` does only the single-row query of the resource `GET /v1/me`
/// returns (the account's row, as the same view); `/invoices` does only the two queries of a
/// page of `PAGE` invoices (the keyset page, then its lines) and answers the same view. No
/// token, no session, no membership.
pub async fn bare_server(
    pool: leman::db::Pool,
    user_id: String,
    org_id: String,
) -> (String, actix_web::dev::ServerHandle) {
    #[derive(Clone)]
    struct Ids {
        user: String,
        org: String,
    }
    async fn one_row(pool: web::Data<leman::db::Pool>, ids: web::Data<Ids>) -> HttpResponse {
        let (pool, id) = (pool.get_ref().clone(), ids.user.clone());
        let row = web::block(move || {
            use leman::db::schema::users;
            // As `sessions::active_caller` reads it: no `LIMIT ?`, which makes SQLite 3.53
            // prepare the statement again on every run.
            users::table
                .find(id)
                .select(leman::models::users::CallerUser::as_select())
                .get_result(&mut pool.get().unwrap())
        })
        .await
        .unwrap()
        .unwrap();
        HttpResponse::Ok().json(leman::views::me::Me::from(&row))
    }
    async fn invoice_page(pool: web::Data<leman::db::Pool>, ids: web::Data<Ids>) -> HttpResponse {
        use leman::models::invoices;
        let (pool, org) = (pool.get_ref().clone(), ids.org.clone());
        let (mut rows, lines) = web::block(move || {
            let conn = &mut pool.get().unwrap();
            let filter = invoices::InvoiceFilter::default();
            let rows = invoices::page(conn, &org, &filter, None, PAGE + 1).unwrap();
            let ids: Vec<String> = rows
                .iter()
                .take(PAGE as usize)
                .map(|i| i.id.clone())
                .collect();
            let lines = invoices::lines_of(conn, &ids).unwrap();
            (rows, lines)
        })
        .await
        .unwrap();
        let next_cursor = leman::services::tokens::next_cursor(&mut rows, PAGE, |i| {
            leman::http::query::cursor::encode(i.issued_at, &i.id)
        });
        let rows = leman::services::invoices::with_lines(rows, lines);
        HttpResponse::Ok().json(leman::views::invoices::InvoiceList {
            data: rows
                .iter()
                .map(|(i, l)| leman::views::invoices::InvoiceView::new(i, l))
                .collect(),
            next_cursor,
        })
    }
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let ids = Ids {
        user: user_id,
        org: org_id,
    };
    let server = HttpServer::new(move || {
        App::new()
            .app_data(web::Data::new(pool.clone()))
            .app_data(web::Data::new(ids.clone()))
            .route("/row", web::get().to(one_row))
            .route("/invoices", web::get().to(invoice_page))
    })
    .workers(1)
    .disable_signals()
    .listen(listener)
    .unwrap()
    .run();
    let handle = server.handle();
    tokio::spawn(server);
    (format!("http://127.0.0.1:{port}"), handle)
}

fn pct(v: f64) -> String {
    format!("{:.0} %", v * 100.0)
}

fn describe(s: &Spread) -> String {
    format!(
        "median {}, interquartile {}–{}, range {}–{}",
        pct(s.median),
        pct(s.q1),
        pct(s.q3),
        pct(s.min),
        pct(s.max)
    )
}

/// Alternating `wrk` rounds on the bare URL and Leman's; prints the figures and returns whether
/// the median ratio meets `budget`.
pub fn compare(what: &str, bare_url: &str, leman_url: &str, token: &str, budget: f64) -> bool {
    load::wrk(bare_url, None, WARM_UP_SECS);
    load::wrk(leman_url, Some(token), WARM_UP_SECS);
    let (mut ratios, mut leman, mut bare, mut p99) = (vec![], vec![], vec![], vec![]);
    for round in 0..ROUNDS {
        // Which goes first alternates too: a slow second half hits both alike.
        let (b, l) = if round % 2 == 0 {
            let b = load::wrk(bare_url, None, ROUND_SECS);
            (b, load::wrk(leman_url, Some(token), ROUND_SECS))
        } else {
            let l = load::wrk(leman_url, Some(token), ROUND_SECS);
            (load::wrk(bare_url, None, ROUND_SECS), l)
        };
        ratios.push(l.rps / b.rps);
        leman.push(l.rps);
        bare.push(b.rps);
        p99.push(l.p99.as_secs_f64() * 1000.0);
    }
    let r = load::spread(&ratios);
    let (l, b, p) = (
        load::spread(&leman),
        load::spread(&bare),
        load::spread(&p99),
    );
    println!(
        "{what}: {:.0} req/s (p99 {:.2} ms) vs bare {:.0} req/s; ratio {} over {ROUNDS} alternating rounds of {ROUND_SECS} s ({}; rounds: {}) (budget >= {})",
        l.median,
        p.median,
        b.median,
        pct(r.median),
        describe(&r),
        ratios
            .iter()
            .map(|v| pct(*v))
            .collect::<Vec<_>>()
            .join(", "),
        pct(budget),
    );
    r.median >= budget
}
