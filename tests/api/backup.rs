//! Backups (issue 15, part 6): `leman backup` while customers top up and order, `leman restore`
//! into a fresh data directory (or empty PostgreSQL database), a server started on it, and the
//! money invariants, the activity chains and "one instant" checked on what came back. On
//! PostgreSQL the same through pg_dump / pg_restore (skipped with a message where they are not
//! installed, except on CI).

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::process::{Command, Output};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use futures_util::future::join_all;
use reqwest::Method;
use serde_json::json;

use crate::helpers::{TestApp, TestDb, billing_app, get_json, send, test_config};
use leman::db::{DatabaseUrl, DbConnection, Engine};

/// Runs `leman` on the database `url` (data directory `dir`).
fn leman(args: &[&str], url: &str, dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_leman"))
        .args(args)
        .env("DATABASE_URL", url)
        .env("LEMAN_DATA_DIR", dir)
        .env("LEMAN_JOBS", "false")
        .env("LEMAN_LOG", "warn")
        .output()
        .unwrap()
}

fn succeeded(out: &Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what}: {:?}\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// On PostgreSQL the backup needs pg_dump and pg_restore: without them the test says so and
/// passes, except on CI, where they are installed and their absence is a failure.
fn pg_tools_missing(app: &TestApp) -> bool {
    if app.db.engine() != Engine::Postgres {
        return false;
    }
    let present = ["pg_dump", "pg_restore"].iter().all(|tool| {
        Command::new(tool)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    });
    if !present {
        assert_ne!(
            std::env::var("CI").as_deref(),
            Ok("true"),
            "pg_dump and pg_restore must be on PATH on CI"
        );
        eprintln!(
            "skipped: pg_dump / pg_restore are not on PATH (apt-get install postgresql-client)"
        );
    }
    !present
}

/// One write a client made, with when it was sent and when its answer came.
#[derive(Debug, Clone)]
struct Write {
    kind: &'static str,
    /// The payment (top-up) or order id the answer named.
    id: String,
    sent: Instant,
    answered: Instant,
}

/// Top-ups by card, or orders paid from the prepaid account, in `org` until `stop`.
async fn load(
    app: &TestApp,
    token: &str,
    org: &str,
    card: &str,
    kind: &'static str,
    stop: &AtomicBool,
    writes: &Mutex<Vec<Write>>,
) {
    while !stop.load(Ordering::Acquire) {
        let sent = Instant::now();
        let (path, body) = if kind == "top_up" {
            (
                format!("/v1/orgs/{org}/prepaid-account/top-ups"),
                json!({"amount": {"amount": "20.00", "currency": "CHF"}, "payment_method_id": card}),
            )
        } else {
            (
                format!("/v1/orgs/{org}/orders"),
                json!({"items": [{"offer_id": "web-hosting-starter", "billing_period": "P1M"}], "payment": {"method": "prepaid"}}),
            )
        };
        let res = send(app, Method::POST, &path, token, Some(body)).await;
        let status = res.status().as_u16();
        let text = res.text().await.unwrap();
        // Contention may answer the documented 409/503; nothing else.
        assert!([201, 409, 503].contains(&status), "{kind}: {status} {text}");
        if status == 201 {
            let v: serde_json::Value = serde_json::from_str(&text).unwrap();
            writes.lock().unwrap().push(Write {
                kind,
                id: v["id"].as_str().unwrap().to_string(),
                sent,
                answered: Instant::now(),
            });
        }
    }
}

/// A ledger row: organisation, kind, amount, balance after, payment id, invoice id.
type LedgerRow = (String, String, i64, i64, Option<String>, Option<String>);

/// What a database holds, read at rest: the facts the invariants and the comparison need.
#[derive(Debug, Default)]
struct State {
    /// payment id -> (invoice id, status)
    payments: HashMap<String, (Option<String>, String)>,
    /// ledger rows: id -> (organisation, kind, amount, balance after, payment id, invoice id)
    ledger: BTreeMap<String, LedgerRow>,
    /// organisation -> stored balance
    balances: HashMap<String, i64>,
    /// order id -> (status, invoice id)
    orders: HashMap<String, (String, String)>,
    /// invoice id -> (issuer, number, status)
    invoices: HashMap<String, (String, String, String)>,
    /// (issuer, year) -> last number given
    counters: HashMap<(String, i32), i64>,
}

fn read_state(conn: &mut DbConnection) -> State {
    use leman::db::schema::{
        invoice_counters as ic, invoices as i, orders as o, payments as p, prepaid_accounts as pa,
        prepaid_transactions as t,
    };
    let mut s = State::default();
    for (id, invoice, status) in p::table
        .select((p::id, p::invoice_id, p::status))
        .load::<(String, Option<String>, String)>(conn)
        .unwrap()
    {
        s.payments.insert(id, (invoice, status));
    }
    for (id, org, kind, amount, after, payment, invoice) in t::table
        .select((
            t::id,
            t::organization_id,
            t::kind,
            t::amount_minor,
            t::balance_after_minor,
            t::payment_id,
            t::invoice_id,
        ))
        .load::<(
            String,
            String,
            String,
            i64,
            i64,
            Option<String>,
            Option<String>,
        )>(conn)
        .unwrap()
    {
        s.ledger
            .insert(id, (org, kind, amount, after, payment, invoice));
    }
    s.balances = pa::table
        .select((pa::organization_id, pa::balance_minor))
        .load::<(String, i64)>(conn)
        .unwrap()
        .into_iter()
        .collect();
    for (id, status, invoice) in o::table
        .select((o::id, o::status, o::invoice_id))
        .load::<(String, String, String)>(conn)
        .unwrap()
    {
        s.orders.insert(id, (status, invoice));
    }
    for (id, issuer, number, status) in i::table
        .select((i::id, i::issuer, i::number, i::status))
        .load::<(String, String, String, String)>(conn)
        .unwrap()
    {
        s.invoices.insert(id, (issuer, number, status));
    }
    for (issuer, year, last) in ic::table
        .select((ic::issuer, ic::year, ic::last_seq))
        .load::<(String, i32, i64)>(conn)
        .unwrap()
    {
        s.counters.insert((issuer, year), last);
    }
    s
}

/// The invariants of the kill -9 harness, at rest: every invoice paid at most once, ledger =
/// balance for each prepaid account, invoice numbers gapless and matching their counter.
fn assert_invariants(s: &State, which: &str) {
    let mut paid: HashMap<&str, usize> = HashMap::new();
    for (invoice, status) in s.payments.values() {
        if let (Some(invoice), "succeeded") = (invoice, status.as_str()) {
            *paid.entry(invoice.as_str()).or_default() += 1;
        }
    }
    assert!(
        paid.values().all(|n| *n == 1),
        "{which}: an invoice paid twice: {paid:?}"
    );
    let mut sums: HashMap<&str, i64> = HashMap::new();
    for (org, _, amount, ..) in s.ledger.values() {
        *sums.entry(org.as_str()).or_default() += amount;
    }
    for (org, balance) in &s.balances {
        assert_eq!(
            sums.get(org.as_str()).copied().unwrap_or(0),
            *balance,
            "{which}: ledger and balance of {org} differ"
        );
    }
    let mut seqs: HashMap<(String, i32), Vec<i64>> = HashMap::new();
    for (issuer, number, _) in s.invoices.values() {
        let (year, seq) = number.split_once('-').unwrap();
        seqs.entry((issuer.clone(), year.parse().unwrap()))
            .or_default()
            .push(seq.parse().unwrap());
    }
    for (key, mut numbers) in seqs {
        numbers.sort();
        let expected: Vec<i64> = (1..=numbers.len() as i64).collect();
        assert_eq!(numbers, expected, "{which}: numbers of {key:?} have a gap");
        assert_eq!(
            s.counters.get(&key).copied(),
            Some(numbers.len() as i64),
            "{which}: counter of {key:?}"
        );
    }
}

/// Whether the write is in the state, checking that it is there whole (or not at all).
fn holds(s: &State, w: &Write) -> bool {
    match w.kind {
        "top_up" => {
            // Credited: the payment succeeded and its ledger row is there, or neither. (The
            // charge's intent, recorded before the provider is called, may be there alone:
            // `pending`, settled by the restarted server.)
            let credit = s.ledger.values().any(|(_, kind, _, _, payment, _)| {
                kind == "top_up" && payment.as_deref() == Some(w.id.as_str())
            });
            let status = s.payments.get(&w.id).map(|(_, st)| st.as_str());
            match status {
                Some("succeeded") => {
                    assert!(credit, "top-up {} succeeded without its credit", w.id)
                }
                _ => assert!(!credit, "top-up {} credited but {status:?}", w.id),
            }
            credit
        }
        _ => match s.orders.get(&w.id) {
            None => false,
            Some((status, invoice)) => {
                // Ordered and paid from the prepaid account in one transaction.
                assert_eq!(status, "paid", "order {} restored unpaid", w.id);
                assert_eq!(
                    s.invoices.get(invoice).map(|(_, _, st)| st.as_str()),
                    Some("paid"),
                    "order {}'s invoice",
                    w.id
                );
                assert!(
                    s.ledger
                        .values()
                        .any(|(_, kind, amount, _, _, inv)| inv.as_deref()
                            == Some(invoice.as_str())
                            && *amount < 0
                            && kind != "top_up"),
                    "order {}'s debit is missing",
                    w.id
                );
                true
            }
        },
    }
}

/// A server started on a restored database, as `leman serve` would be.
struct Restored {
    address: String,
    handle: actix_web::dev::ServerHandle,
}

async fn serve(db: &TestDb, dir: &Path) -> Restored {
    let config = test_config(
        dir,
        &db.url,
        [("LEMAN_JOBS".to_string(), "false".to_string())].into(),
    );
    let services = leman::startup::Services::start(config)
        .await
        .expect("services start on the restored database");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let app = leman::startup::Application::with_listener(services, listener).unwrap();
    let address = format!("http://127.0.0.1:{}", app.port());
    let handle = app.handle();
    tokio::spawn(app.run_until_stopped(None));
    Restored { address, handle }
}

#[tokio::test]
async fn a_backup_under_write_load_restores_one_instant_with_every_invariant_intact() {
    let app = billing_app().await;
    if pg_tools_missing(&app) {
        return;
    }
    let (_, s) = app.signed_in("backup@example.ch").await;
    let mut orgs = vec![];
    for i in 0..3 {
        orgs.push(app.funded_org(&s, &format!("Backup {i}"), "500.00").await);
    }
    let stop = AtomicBool::new(false);
    let writes = Mutex::new(Vec::<Write>::new());
    let backup_dir = tempfile::tempdir().unwrap();
    let file = backup_dir.path().join("leman.backup");
    let (url, dir) = (app.db.url.clone(), app.data_dir.path().to_path_buf());
    let token = s.access_token.clone();
    let clients = orgs.iter().flat_map(|(org, card)| {
        ["top_up", "order"].map(|kind| load(&app, &token, org, card, kind, &stop, &writes))
    });
    let backup = async {
        // Writes under way first, then the backup while they go on, then more writes.
        while writes.lock().unwrap().len() < 6 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let (f, u, d) = (file.clone(), url.clone(), dir.clone());
        let started = Instant::now();
        let out = tokio::task::spawn_blocking(move || {
            leman(&["backup", "--output", f.to_str().unwrap()], &u, &d)
        })
        .await
        .unwrap();
        let ended = Instant::now();
        // Six clients, one request each at a time: of twelve more answers, six at least were
        // sent after the backup ended.
        let n = writes.lock().unwrap().len();
        while writes.lock().unwrap().len() < n + 12 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        stop.store(true, Ordering::Release);
        (out, started, ended)
    };
    let ((out, started, ended), _) = tokio::join!(backup, join_all(clients));
    let printed = succeeded(&out, "leman backup");
    assert!(
        printed.contains(" bytes, ") && printed.contains(" tables"),
        "{printed}"
    );
    let writes = writes.into_inner().unwrap();
    let during = writes
        .iter()
        .filter(|w| w.sent < ended && w.answered > started)
        .count();
    assert!(during > 0, "no write ran while the backup did: {writes:?}");
    // Only the final name, no temporary file left beside it.
    let names: Vec<String> = std::fs::read_dir(backup_dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, vec!["leman.backup".to_string()]);
    succeeded(
        &leman(&["backup", "check", file.to_str().unwrap()], &url, &dir),
        "leman backup check",
    );

    // Restore into a fresh data directory (a fresh database on PostgreSQL).
    let fresh_dir = tempfile::tempdir().unwrap();
    let fresh = TestDb::new(fresh_dir.path());
    succeeded(
        &leman(
            &["restore", "--input", file.to_str().unwrap()],
            &fresh.url,
            fresh_dir.path(),
        ),
        "leman restore",
    );
    succeeded(
        &leman(&["audit", "verify"], &fresh.url, fresh_dir.path()),
        "leman audit verify on the restored database",
    );
    let source = {
        let mut c = app.conn();
        read_state(&mut c)
    };
    let restored = {
        let mut c = DatabaseUrl::parse(&fresh.url)
            .unwrap()
            .connect_existing()
            .unwrap();
        read_state(&mut c)
    };
    assert_invariants(&source, "source");
    assert_invariants(&restored, "restored");

    // One instant: every write answered before the backup began is in, none sent after it
    // ended is, and no write that is in was sent after one that is out had been answered.
    let (mut present, mut absent) = (vec![], vec![]);
    for w in &writes {
        assert!(holds(&source, w), "the source lost {w:?}");
        if holds(&restored, w) {
            present.push(w);
        } else {
            absent.push(w);
        }
    }
    eprintln!(
        "backup: {} writes, {during} during the backup, {} restored, {} not",
        writes.len(),
        present.len(),
        absent.len()
    );
    for w in &writes {
        if w.answered < started {
            assert!(
                holds(&restored, w),
                "answered before the backup, missing: {w:?}"
            );
        }
        if w.sent > ended {
            assert!(
                !holds(&restored, w),
                "sent after the backup, restored: {w:?}"
            );
        }
    }
    for a in &absent {
        for p in &present {
            assert!(
                p.sent < a.answered,
                "{p:?} is restored, but {a:?}, answered before it was sent, is not"
            );
        }
    }
    // What was restored is the source's rows as they were: ledger rows (never changed once
    // written) identical, every restored invoice and order one of the source's.
    for (id, row) in &restored.ledger {
        assert_eq!(source.ledger.get(id), Some(row), "ledger row {id}");
    }
    assert!(
        restored
            .invoices
            .keys()
            .all(|i| source.invoices.contains_key(i))
    );
    assert!(
        restored
            .orders
            .keys()
            .all(|o| source.orders.contains_key(o))
    );
    assert!(
        restored.ledger.len() < source.ledger.len(),
        "writes made after the backup must be missing from it"
    );

    // A server starts on it and serves: the same sessions (signing keys came back too), the
    // balances as restored.
    app.stop().await;
    let server = serve(&fresh, fresh_dir.path()).await;
    let client = reqwest::Client::new();
    for (org, _) in &orgs {
        let res = client
            .get(format!("{}/v1/orgs/{org}/prepaid-account", server.address))
            .bearer_auth(&s.access_token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let account: serde_json::Value = res.json().await.unwrap();
        let cents = restored.balances[org];
        assert_eq!(
            account["balance"]["amount"],
            format!("{}.{:02}", cents / 100, cents % 100),
            "{account}"
        );
    }
    let me = client
        .get(format!("{}/v1/me", server.address))
        .bearer_auth(&s.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    server.handle.stop(true).await;
}

#[tokio::test]
async fn backup_and_restore_refuse_to_overwrite_and_to_use_a_damaged_file() {
    let app = billing_app().await;
    if pg_tools_missing(&app) {
        return;
    }
    let (_, s) = app.signed_in("careful@example.ch").await;
    let org = app.create_org(&s, "Careful").await;
    let (url, dir) = (app.db.url.clone(), app.data_dir.path().to_path_buf());
    let backup_dir = tempfile::tempdir().unwrap();
    let file = backup_dir.path().join("first.backup");
    let f = file.to_str().unwrap();
    succeeded(&leman(&["backup", "--output", f], &url, &dir), "backup");
    let first = std::fs::read(&file).unwrap();
    // An existing file is kept unless --force.
    let again = leman(&["backup", "--output", f], &url, &dir);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("--force"));
    assert_eq!(std::fs::read(&file).unwrap(), first);
    let renamed = send(
        &app,
        Method::PATCH,
        &format!("/v1/orgs/{org}"),
        &s,
        Some(json!({"name": "Careful 2"})),
    )
    .await;
    assert_eq!(renamed.status(), 200);
    succeeded(
        &leman(&["backup", "--output", f, "--force"], &url, &dir),
        "backup --force",
    );
    assert_ne!(std::fs::read(&file).unwrap(), first);

    // Restoring over a database that holds data is refused unless --force; the data stays.
    let refused = leman(&["restore", "--input", f], &url, &dir);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--force"));
    assert_eq!(
        get_json(&app, &s, &format!("/v1/orgs/{org}")).await["name"],
        "Careful 2"
    );

    // A damaged copy is refused by check and by restore, which leaves the target as it was.
    let damaged = backup_dir.path().join("damaged.backup");
    let mut bytes = std::fs::read(&file).unwrap();
    let cut = bytes.len() / 2;
    match app.db.engine() {
        // Garbage over every page but the first: the schema is lost, integrity_check fails.
        Engine::Sqlite => bytes[4096..].iter_mut().for_each(|b| *b = 0x5a),
        Engine::Postgres => bytes.truncate(cut),
    }
    std::fs::write(&damaged, &bytes).unwrap();
    let d = damaged.to_str().unwrap();
    assert!(!leman(&["backup", "check", d], &url, &dir).status.success());
    let fresh_dir = tempfile::tempdir().unwrap();
    let fresh = TestDb::new(fresh_dir.path());
    assert!(
        !leman(&["restore", "--input", d], &fresh.url, fresh_dir.path())
            .status
            .success()
    );
    if app.db.engine() == Engine::Sqlite {
        assert!(!fresh_dir.path().join("leman.db").exists());
    } else {
        let mut c = DatabaseUrl::parse(&fresh.url).unwrap().connect().unwrap();
        assert!(!leman::models::backup::has_tables(&mut c).unwrap());
    }
    // Attack review: even forced over a live database, a damaged copy changes nothing (on
    // PostgreSQL the schema was dropped before pg_restore found the damage).
    assert!(
        !leman(&["restore", "--input", d, "--force"], &url, &dir)
            .status
            .success()
    );
    assert_eq!(
        get_json(&app, &s, &format!("/v1/orgs/{org}")).await["name"],
        "Careful 2"
    );
    // The sound copy restores there (named `-…` and given relative: never taken for an option
    // of pg_restore), and the rename made before it is in.
    std::fs::copy(&file, backup_dir.path().join("-first.backup")).unwrap();
    let dashed = Command::new(env!("CARGO_BIN_EXE_leman"))
        .args(["restore", "--input=-first.backup"])
        .current_dir(backup_dir.path())
        .env("DATABASE_URL", &fresh.url)
        .env("LEMAN_DATA_DIR", fresh_dir.path())
        .env("LEMAN_JOBS", "false")
        .env("LEMAN_LOG", "warn")
        .output()
        .unwrap();
    succeeded(&dashed, "restore");
    let mut c = DatabaseUrl::parse(&fresh.url)
        .unwrap()
        .connect_existing()
        .unwrap();
    let name: String = leman::db::schema::organizations::table
        .find(&org)
        .select(leman::db::schema::organizations::name)
        .first(&mut c)
        .unwrap();
    assert_eq!(name, "Careful 2");
}

/// Attack review: a backup holds secrets (password hashes, signing keys): only its owner reads it.
#[tokio::test]
async fn a_backup_file_is_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let app = crate::helpers::TestApp::builder()
        .without_jobs()
        .spawn()
        .await;
    if app.db.url.starts_with("postgres")
        && std::process::Command::new("pg_dump")
            .arg("--version")
            .output()
            .is_err()
    {
        eprintln!("SKIPPED: pg_dump is not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("leman.backup");
    let out = app.cli(&["backup", "--output", file.to_str().unwrap()], &[]);
    assert!(out.status.success(), "{out:?}");
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "{mode:o}");
}
