//! Issue 12 parts 6–8: transfer out (R47–R52). The code reaches only the WHOIS owner's address
//! and appears in no answer, log, activity, event or other mail; each precondition is a named
//! 409; the extensions' own rules; the registry's side through `poll_registry` and the sandbox's
//! `leman registry simulate` commands.

use diesel::prelude::*;
use reqwest::Method;
use serde_json::json;

use crate::domain_fixture::TestDomain;
use crate::helpers::*;

const OWNER: &str = "owner@whois.example";

struct Setup {
    app: TestApp,
    session: TestSession,
    org: String,
    admin_email: String,
}

async fn setup() -> Setup {
    let app = TestApp::spawn().await;
    let (user, session) = app.signed_in("admin@example.ch").await;
    let org = app.create_org(&session, "Muster AG").await;
    Setup {
        app,
        session,
        org,
        admin_email: user.email,
    }
}

fn path(org: &str, d: &TestDomain) -> String {
    format!("/v1/orgs/{org}/domains/{}/transfer-out", d.id)
}

async fn request(
    app: &TestApp,
    who: impl Bearer,
    org: &str,
    d: &TestDomain,
    body: serde_json::Value,
) -> reqwest::Response {
    send(app, Method::POST, &path(org, d), who, Some(body)).await
}

/// The code of the n-th (1-based) code asked for `d`, from the mail to the owner `to`.
pub async fn code_in_mail(app: &TestApp, d: &TestDomain, to: &str, n: usize) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let mut codes: Vec<(String, String)> = app
            .mails()
            .into_iter()
            .filter(|m| m.contains(&format!("To: {to}")))
            .filter_map(|m| {
                let date = m
                    .lines()
                    .find(|l| l.starts_with("Date:"))
                    .unwrap_or_default()
                    .to_string();
                let text = mail_text(&m);
                let code = text
                    .lines()
                    .find_map(|l| {
                        let l = l.trim();
                        l.strip_prefix("Transfer code: ")
                            .or_else(|| l.strip_prefix("Code de transfert : "))
                    })?
                    .trim()
                    .to_string();
                Some((date, code))
            })
            .collect();
        {
            // The n-th code is the one whose hash the n-th row holds.
            codes.sort();
            let id = d.id.clone();
            let hashes: Vec<(String, Option<chrono::NaiveDateTime>)> = app
                .with_conn(move |c| {
                    use leman::db::schema::domain_transfer_codes as t;
                    t::table
                        .filter(t::domain_id.eq(&id))
                        .order(t::created_at.asc())
                        .select((t::code_hash, t::voided_at))
                        .load(c)
                        .unwrap()
                })
                .await;
            if let Some((wanted, _)) = hashes.get(n - 1)
                && let Some((_, code)) = codes
                    .iter()
                    .find(|(_, c)| leman::auth::secrets::hash(c) == *wanted)
            {
                return code.clone();
            }
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no transfer code mail #{n} to {to}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
}

async fn set_lock_and_privacy(app: &TestApp, d: &TestDomain, locked: bool, privacy: bool) {
    use leman::domain::domains::EppStatus;
    let (registry, name) = (app.services.registry.clone(), d.name.clone());
    tokio::task::spawn_blocking(move || {
        let lock = [EppStatus::ClientTransferProhibited];
        if locked {
            registry.update_statuses(&name, &lock, &[]).unwrap();
        }
        if privacy {
            registry.set_privacy(&name, true).unwrap();
        }
    })
    .await
    .unwrap();
    let id = d.id.clone();
    app.with_conn(move |c| {
        use leman::db::schema::domains::dsl as t;
        diesel::update(t::domains.find(&id))
            .set((t::locked.eq(locked), t::privacy.eq(privacy)))
            .execute(c)
            .unwrap();
    })
    .await;
}

fn run_poll(app: &TestApp) -> String {
    let out = app.cli(&["jobs", "run", "poll_registry"], &[("LEMAN_LOG", "trace")]);
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{all}");
    all
}

pub fn simulate(app: &TestApp, args: &[&str]) -> (bool, String) {
    let mut full = vec!["registry", "simulate"];
    full.extend_from_slice(args);
    let out = app.cli(&full, &[("LEMAN_LOG", "trace")]);
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

async fn transfer_view(s: &Setup, d: &TestDomain) -> serde_json::Value {
    get_json(&s.app, &s.session, &path(&s.org, d)).await
}

async fn product(s: &Setup, d: &TestDomain) -> serde_json::Value {
    get_json(
        &s.app,
        &s.session,
        &format!("/v1/orgs/{}/products/{}", s.org, d.product_id),
    )
    .await
}

async fn wait_for_outbox_sent(app: &TestApp) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let pending: i64 = app
            .with_conn(|c| {
                use leman::db::schema::mails::dsl as t;
                t::mails
                    .filter(t::status.ne("sent"))
                    .count()
                    .get_result(c)
                    .unwrap()
            })
            .await;
        if pending == 0 {
            return;
        }
        assert!(std::time::Instant::now() < deadline, "mails still pending");
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
}

/// Every text the database keeps of activities and mails, concatenated.
async fn stored_texts(app: &TestApp) -> String {
    app.with_conn(|c| {
        use leman::db::schema::{activities, mails};
        let details: Vec<String> = activities::table
            .select(activities::details)
            .load(c)
            .unwrap();
        let bodies: Vec<(String, String, String)> = mails::table
            .select((mails::subject, mails::text_body, mails::html_body))
            .load(c)
            .unwrap();
        let jobs: Vec<String> = leman::db::schema::jobs::table
            .select(leman::db::schema::jobs::payload)
            .load(c)
            .unwrap();
        format!("{details:?}{bodies:?}{jobs:?}")
    })
    .await
}

#[tokio::test]
async fn r48_the_code_reaches_only_the_whois_owner_and_no_answer_activity_or_other_mail() {
    let s = setup().await;
    let app = &s.app;
    // A member holding `domains` asks; another member without it; the admin.
    let (requester, rs) = app.signed_in("requester@example.ch").await;
    app.add_member(&s.org, &requester.id, "member", &["domains"])
        .await;
    let other = app.create_user("other@example.ch").await;
    app.add_member(&s.org, &other.id, "member", &["products"])
        .await;
    let d = app.registered_domain(&s.org, "muster.ch", OWNER).await;
    let res = request(app, &rs, &s.org, &d, json!({})).await;
    let answer_text = res.text().await.unwrap();
    let answer: serde_json::Value = serde_json::from_str(&answer_text).unwrap();
    assert_eq!(answer["state"], "code_sent", "{answer_text}");
    assert_eq!(answer["recipient"], "o•••@whois.example");
    assert!(answer["expires_at"].is_string());
    let code = code_in_mail(app, &d, OWNER, 1).await;
    // The .ch format: 20 characters of its alphabet.
    assert_eq!(code.chars().count(), 20, "{code}");
    assert!(code.chars().all(|c| c.is_ascii_alphanumeric()));
    // The admin and the requester hear of it, without the code; the other member hears nothing.
    let admin_notice = app
        .wait_for_mail_containing(&s.admin_email, "o•••@whois.example")
        .await;
    assert!(!admin_notice.contains(&code));
    let requester_notice = app
        .wait_for_mail_containing("requester@example.ch", "o•••@whois.example")
        .await;
    assert!(!requester_notice.contains(&code));
    assert!(texts_to(app, "other@example.ch").is_empty());
    for m in app.mails() {
        if !m.contains(&format!("To: {OWNER}")) {
            assert!(!mail_text(&m).contains(&code) && !m.contains(&code));
        }
    }
    // Not in any answer: the state, the organisation's activities, the requester's.
    let view = transfer_view(&s, &d).await;
    assert_eq!(view["state"], "code_sent");
    assert_eq!(view["recipient"], "o•••@whois.example");
    let acts = get_json(app, &s.session, &format!("/v1/orgs/{}/activities", s.org)).await;
    assert!(
        acts.to_string().contains("domain.transfer_code_sent"),
        "{acts}"
    );
    let mine = get_json(app, &rs, "/v1/me/activities").await;
    for text in [view.to_string(), acts.to_string(), mine.to_string()] {
        assert!(!text.contains(&code));
    }
    // Kept only as its SHA-256 hash.
    let hashes: Vec<String> = app
        .with_conn(|c| {
            use leman::db::schema::domain_transfer_codes as t;
            t::table.select(t::code_hash).load(c).unwrap()
        })
        .await;
    assert_eq!(hashes, vec![leman::auth::secrets::hash(&code)]);
    // The outbox forgets the owner's mail body once delivered: no activity, event, job or
    // stored mail holds the code.
    wait_for_outbox_sent(app).await;
    let stored = stored_texts(app).await;
    assert!(!stored.contains(&code));
    // The gaining registrar uses it (.ch: completes at once); no command output shows it.
    let (ok_, out) = simulate(app, &["transfer-request", "muster.ch", &code]);
    assert!(ok_, "{out}");
    assert!(!out.contains(&code), "{out}");
    let polled = run_poll(app);
    assert!(!polled.contains(&code));
    let view = transfer_view(&s, &d).await;
    assert_eq!(view["state"], "completed");
    assert!(!view.to_string().contains(&code));
    assert!(!stored_texts(app).await.contains(&code));
}

#[tokio::test]
async fn r48_the_server_log_never_shows_the_code() {
    use std::io::Read;
    use std::process::{Command, Stdio};
    let s = setup().await;
    let app = &s.app;
    let d = app.registered_domain(&s.org, "logged.ch", OWNER).await;
    // A second server on the same database, logging everything.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let log_path = app.data_dir.path().join("server.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_leman"))
        .env("DATABASE_URL", &app.db.url)
        .env("LEMAN_DATA_DIR", app.data_dir.path())
        .env("LEMAN_BIND", format!("127.0.0.1:{port}"))
        .env("LEMAN_JOBS", "false")
        .env("LEMAN_APP_URL", "https://app.leman.test")
        .env("LEMAN_LOG", "trace")
        .stdout(Stdio::from(log.try_clone().unwrap()))
        .stderr(Stdio::from(log))
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while client.get(format!("{url}/healthz")).send().await.is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "the server did not start"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let res = client
        .post(format!("{url}{}", path(&s.org, &d)))
        .bearer_auth(s.session.bearer())
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let body = res.text().await.unwrap();
    let res2 = client
        .get(format!("{url}{}", path(&s.org, &d)))
        .bearer_auth(s.session.bearer())
        .send()
        .await
        .unwrap();
    let body2 = res2.text().await.unwrap();
    let code = code_in_mail(app, &d, OWNER, 1).await;
    let _ = Command::new("kill").arg(child.id().to_string()).status();
    let _ = child.wait();
    let mut logs = String::new();
    std::fs::File::open(&log_path)
        .unwrap()
        .read_to_string(&mut logs)
        .unwrap();
    assert_eq!(status, 202, "{body}");
    assert!(
        logs.contains("transfer-out"),
        "the request is logged: {logs}"
    );
    assert!(!logs.contains(&code), "the code is in the server log");
    assert!(!body.contains(&code) && !body2.contains(&code));
}

#[tokio::test]
async fn r49_every_precondition_is_a_named_409() {
    let s = setup().await;
    let app = &s.app;
    // Locked.
    let d = app.registered_domain(&s.org, "locked.ch", OWNER).await;
    set_lock_and_privacy(app, &d, true, false).await;
    problem(
        request(app, &s.session, &s.org, &d, json!({})).await,
        409,
        "domain_locked",
    )
    .await;
    // Privacy on.
    let d = app.registered_domain(&s.org, "private.ch", OWNER).await;
    set_lock_and_privacy(app, &d, false, true).await;
    problem(
        request(app, &s.session, &s.org, &d, json!({})).await,
        409,
        "privacy_enabled",
    )
    .await;
    // Within .com's 60 days after registration: says until when.
    let d = app.registered_domain(&s.org, "fresh.com", OWNER).await;
    let p = problem(
        request(app, &s.session, &s.org, &d, json!({})).await,
        409,
        "transfer_locked_until",
    )
    .await;
    let until = (chrono::Utc::now() + chrono::Duration::days(60))
        .format("%Y-%m-%d")
        .to_string();
    assert!(p["detail"].as_str().unwrap().contains(&until), "{p}");
    // A server status at the registry.
    let d = app.registered_domain(&s.org, "held-muster.ch", OWNER).await;
    problem(
        request(app, &s.session, &s.org, &d, json!({"unlock": true})).await,
        409,
        "registry_prohibited",
    )
    .await;
    // Expired.
    let d = app.registered_domain(&s.org, "old.ch", OWNER).await;
    let id = d.id.clone();
    app.with_conn(move |c| {
        use leman::db::schema::domains::dsl as t;
        diesel::update(t::domains.find(&id))
            .set(t::expires_at.eq(Some(leman::db::now() - chrono::Duration::days(1))))
            .execute(c)
            .unwrap();
    })
    .await;
    problem(
        request(app, &s.session, &s.org, &d, json!({})).await,
        409,
        "domain_expired",
    )
    .await;
    // None of them sent anything to the owner.
    assert!(texts_to(app, OWNER).is_empty());
}

#[tokio::test]
async fn r49_unlock_and_privacy_off_in_one_call() {
    let s = setup().await;
    let app = &s.app;
    let d = app.registered_domain(&s.org, "both.ch", OWNER).await;
    set_lock_and_privacy(app, &d, true, true).await;
    let body = ok(
        request(
            app,
            &s.session,
            &s.org,
            &d,
            json!({"unlock": true, "disable_privacy": true}),
        )
        .await,
        202,
    )
    .await;
    assert_eq!(body["state"], "code_sent");
    let (registry, name) = (app.services.registry.clone(), d.name.clone());
    let info = tokio::task::spawn_blocking(move || registry.info(&name).unwrap())
        .await
        .unwrap();
    assert!(!info.privacy);
    assert!(
        !info
            .statuses
            .contains(&leman::domain::domains::EppStatus::ClientTransferProhibited)
    );
    let id = d.id.clone();
    let (locked, privacy): (bool, bool) = app
        .with_conn(move |c| {
            use leman::db::schema::domains::dsl as t;
            t::domains
                .find(&id)
                .select((t::locked, t::privacy))
                .first(c)
                .unwrap()
        })
        .await;
    assert!(!locked && !privacy);
    code_in_mail(app, &d, OWNER, 1).await;
}

#[tokio::test]
async fn r50_asking_again_voids_the_previous_code() {
    let s = setup().await;
    let app = &s.app;
    let d = app.registered_domain(&s.org, "again.fr", OWNER).await;
    ok(request(app, &s.session, &s.org, &d, json!({})).await, 202).await;
    let first = code_in_mail(app, &d, OWNER, 1).await;
    ok(request(app, &s.session, &s.org, &d, json!({})).await, 202).await;
    let second = code_in_mail(app, &d, OWNER, 2).await;
    assert_ne!(first, second);
    let voided: Vec<Option<chrono::NaiveDateTime>> = app
        .with_conn(|c| {
            use leman::db::schema::domain_transfer_codes as t;
            t::table
                .order(t::created_at.asc())
                .select(t::voided_at)
                .load(c)
                .unwrap()
        })
        .await;
    assert!(voided[0].is_some() && voided[1].is_none());
    let (accepted, out) = simulate(app, &["transfer-request", "again.fr", &first]);
    assert!(!accepted, "{out}");
    assert!(out.contains("wrong or has expired"), "{out}");
    let (accepted, out) = simulate(app, &["transfer-request", "again.fr", &second]);
    assert!(accepted, "{out}");
    assert!(out.contains("pending"), "{out}");
}

#[tokio::test]
async fn r50_at_most_five_codes_a_day() {
    let s = setup().await;
    let app = &s.app;
    let d = app.registered_domain(&s.org, "often.ch", OWNER).await;
    for _ in 0..5 {
        ok(request(app, &s.session, &s.org, &d, json!({})).await, 202).await;
    }
    let res = request(app, &s.session, &s.org, &d, json!({})).await;
    let retry: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry > 86_000 && retry <= 86_401, "{retry}");
    problem(res, 429, "rate_limited").await;
}

fn days_ahead(answer: &serde_json::Value) -> i64 {
    let at: chrono::DateTime<chrono::Utc> = answer["expires_at"].as_str().unwrap().parse().unwrap();
    (at - chrono::Utc::now() + chrono::Duration::minutes(1)).num_days()
}

#[tokio::test]
async fn r51_extensions_own_rules_eu_registry_code_de_validity_ch_fourteen_days() {
    let s = setup().await;
    let app = &s.app;
    let eu = app
        .registered_domain(&s.org, "muster.eu", "eu@whois.example")
        .await;
    let answer = ok(request(app, &s.session, &s.org, &eu, json!({})).await, 202).await;
    assert_eq!(days_ahead(&answer), 40);
    let code = code_in_mail(app, &eu, "eu@whois.example", 1).await;
    let groups: Vec<&str> = code.split('-').collect();
    assert_eq!(groups.len(), 4, "{code}");
    assert!(groups.iter().all(|g| g.len() == 4), "{code}");
    let de = app
        .registered_domain(&s.org, "muster.de", "de@whois.example")
        .await;
    let answer = ok(request(app, &s.session, &s.org, &de, json!({})).await, 202).await;
    assert_eq!(days_ahead(&answer), 30);
    let ch = app
        .registered_domain(&s.org, "muster.ch", "ch@whois.example")
        .await;
    let answer = ok(request(app, &s.session, &s.org, &ch, json!({})).await, 202).await;
    assert_eq!(days_ahead(&answer), 14);
}

#[tokio::test]
async fn r51_uk_release_needs_confirm_and_ends_the_product() {
    let s = setup().await;
    let app = &s.app;
    let d = app.registered_domain(&s.org, "muster.uk", OWNER).await;
    let p = problem(
        request(app, &s.session, &s.org, &d, json!({"tag": "NEWREG"})).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "/confirm");
    let body = ok(
        request(
            app,
            &s.session,
            &s.org,
            &d,
            json!({"tag": "NEWREG", "confirm": true}),
        )
        .await,
        202,
    )
    .await;
    assert_eq!(body["state"], "completed");
    assert_eq!(body["released_to"], "NEWREG");
    assert!(body["recipient"].is_null());
    assert!(texts_to(app, OWNER).is_empty(), "no code for .uk");
    let view = transfer_view(&s, &d).await;
    assert_eq!(view["state"], "completed");
    assert_eq!(view["requested_by"], "NEWREG");
    let p = product(&s, &d).await;
    assert_eq!(p["status"], "cancelled");
    assert_eq!(p["auto_renew"], false);
    let (registry, name) = (app.services.registry.clone(), d.name.clone());
    let info = tokio::task::spawn_blocking(move || registry.info(&name))
        .await
        .unwrap();
    assert_eq!(info, Err(leman::registry::RegistryError::NotSponsor));
    // Gone: nothing more to transfer.
    problem(
        request(
            app,
            &s.session,
            &s.org,
            &d,
            json!({"tag": "NEWREG", "confirm": true}),
        )
        .await,
        409,
        "domain_not_active",
    )
    .await;
}

#[tokio::test]
async fn r52_a_request_is_approved_after_the_registrys_wait_and_ends_the_product() {
    let s = setup().await;
    let app = &s.app;
    let d = app.registered_domain(&s.org, "leaving.fr", OWNER).await;
    ok(request(app, &s.session, &s.org, &d, json!({})).await, 202).await;
    let code = code_in_mail(app, &d, OWNER, 1).await;
    let (accepted, out) = simulate(
        app,
        &[
            "transfer-request",
            "leaving.fr",
            &code,
            "--registrar",
            "NEWREG",
        ],
    );
    assert!(accepted, "{out}");
    run_poll(app);
    let view = transfer_view(&s, &d).await;
    assert_eq!(view["state"], "requested", "{view}");
    assert_eq!(view["requested_by"], "NEWREG");
    assert!(view["requested_at"].is_string() && view["completes_at"].is_string());
    app.wait_for_mail_containing(&s.admin_email, "NEWREG").await;
    // Still visible and ours; asking for a code again is refused while it is requested.
    problem(
        request(app, &s.session, &s.org, &d, json!({})).await,
        409,
        "transfer_requested",
    )
    .await;
    assert_eq!(product(&s, &d).await["status"], "active");
    // Nothing happens before the registry's wait is over.
    let (ok4, out) = simulate(app, &["advance", "4"]);
    assert!(ok4, "{out}");
    run_poll(app);
    assert_eq!(transfer_view(&s, &d).await["state"], "requested");
    let (ok1, out) = simulate(app, &["advance", "1"]);
    assert!(ok1, "{out}");
    run_poll(app);
    let view = transfer_view(&s, &d).await;
    assert_eq!(view["state"], "completed", "{view}");
    assert!(view["completed_at"].is_string());
    let p = product(&s, &d).await;
    assert_eq!(p["status"], "cancelled");
    assert_eq!(p["auto_renew"], false);
    let status: String = {
        let id = d.id.clone();
        app.with_conn(move |c| {
            use leman::db::schema::domains::dsl as t;
            t::domains.find(&id).select(t::status).first(c).unwrap()
        })
        .await
    };
    assert_eq!(status, "transferred_out");
    let acts = get_json(app, &s.session, &format!("/v1/orgs/{}/activities", s.org)).await;
    assert!(
        acts.to_string().contains("domain.transferred_out"),
        "{acts}"
    );
    assert!(acts.to_string().contains("domain.transfer_requested"));
    app.wait_for_mail_containing(&s.admin_email, "is now managed by the registrar NEWREG")
        .await;
    // Applying the approval again changes nothing.
    let services = app.services.clone();
    let again = app
        .with_conn(move |c| {
            let m = leman::registry::PollMessage {
                id: "msg_again".into(),
                domain: "leaving.fr".into(),
                transfer: leman::registry::TransferInfo {
                    status: leman::registry::TransferStatus::ServerApproved,
                    gaining_registrar: "NEWREG".into(),
                    requested_at: leman::db::now(),
                    act_at: leman::db::now(),
                },
            };
            leman::db::write(c, |c| {
                leman::services::transfer_out::apply_message(c, &services, &m)
            })
            .unwrap()
        })
        .await;
    assert!(!again);
}

#[tokio::test]
async fn r52_the_owner_rejects_a_request() {
    let s = setup().await;
    let app = &s.app;
    let d = app.registered_domain(&s.org, "staying.fr", OWNER).await;
    // Nothing to reject yet.
    problem(
        send(
            app,
            Method::POST,
            &format!("{}/reject", path(&s.org, &d)),
            &s.session,
            None,
        )
        .await,
        409,
        "no_transfer_requested",
    )
    .await;
    ok(request(app, &s.session, &s.org, &d, json!({})).await, 202).await;
    let code = code_in_mail(app, &d, OWNER, 1).await;
    let (accepted, out) = simulate(app, &["transfer-request", "staying.fr", &code]);
    assert!(accepted, "{out}");
    run_poll(app);
    assert_eq!(transfer_view(&s, &d).await["state"], "requested");
    let view = ok(
        send(
            app,
            Method::POST,
            &format!("{}/reject", path(&s.org, &d)),
            &s.session,
            None,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(view["state"], "rejected");
    let (ok5, out) = simulate(app, &["advance", "6"]);
    assert!(ok5, "{out}");
    run_poll(app);
    assert_eq!(transfer_view(&s, &d).await["state"], "rejected");
    assert_eq!(product(&s, &d).await["status"], "active");
    // The used code is void: the registrar cannot ask again with it.
    let (accepted, out) = simulate(app, &["transfer-request", "staying.fr", &code]);
    assert!(!accepted, "{out}");
}

#[tokio::test]
async fn cancelling_clears_the_code_at_the_registry() {
    let s = setup().await;
    let app = &s.app;
    let d = app.registered_domain(&s.org, "cancelled.fr", OWNER).await;
    problem(
        send(app, Method::DELETE, &path(&s.org, &d), &s.session, None).await,
        409,
        "no_transfer_code",
    )
    .await;
    ok(request(app, &s.session, &s.org, &d, json!({})).await, 202).await;
    let code = code_in_mail(app, &d, OWNER, 1).await;
    ok(
        send(app, Method::DELETE, &path(&s.org, &d), &s.session, None).await,
        204,
    )
    .await;
    let view = transfer_view(&s, &d).await;
    assert_eq!(view["state"], "cancelled");
    assert!(view["code_expires_at"].is_null());
    let (accepted, out) = simulate(app, &["transfer-request", "cancelled.fr", &code]);
    assert!(!accepted, "{out}");
    assert!(out.contains("refused"), "{out}");
}

#[tokio::test]
async fn asking_for_a_code_needs_a_recent_authentication() {
    let s = setup().await;
    let app = &s.app;
    let d = app.registered_domain(&s.org, "recent.ch", OWNER).await;
    app.make_session_not_recent(&s.session).await;
    problem(
        request(app, &s.session, &s.org, &d, json!({})).await,
        403,
        "reauthentication_required",
    )
    .await;
    assert!(texts_to(app, OWNER).is_empty());
}

#[tokio::test]
async fn transfer_out_access_matrix() {
    let s = setup().await;
    let app = &s.app;
    let d = app.registered_domain(&s.org, "matrix.ch", OWNER).await;
    // A member without `domains`.
    let (member, ms) = app.signed_in("member@example.ch").await;
    app.add_member(&s.org, &member.id, "member", &["products"])
        .await;
    problem(
        request(app, &ms, &s.org, &d, json!({})).await,
        403,
        "permission_denied",
    )
    .await;
    problem(
        send(app, Method::GET, &path(&s.org, &d), &ms, None).await,
        403,
        "permission_denied",
    )
    .await;
    // Another organisation's admin: 404, and the domain is not reachable through their org.
    let (_, stranger) = app.signed_in("stranger@example.ch").await;
    let theirs = app.create_org(&stranger, "Other").await;
    problem(
        request(app, &stranger, &s.org, &d, json!({})).await,
        404,
        "not_found",
    )
    .await;
    problem(
        request(app, &stranger, &theirs, &d, json!({})).await,
        404,
        "not_found",
    )
    .await;
    // Tokens: `domains:read` reads; writing it needs a person's recent authentication.
    let admin_id: String = app
        .with_conn(|c| {
            use leman::db::schema::users::dsl as t;
            t::users
                .filter(t::email.eq("admin@example.ch"))
                .select(t::id)
                .first(c)
                .unwrap()
        })
        .await;
    let read = app
        .token_of_kind(&admin_id, "personal", &["domains:read"])
        .await;
    assert_eq!(
        get_json(app, read.as_str(), &path(&s.org, &d)).await["state"],
        "none"
    );
    problem(
        request(app, read.as_str(), &s.org, &d, json!({})).await,
        403,
        "insufficient_scope",
    )
    .await;
    let write = app
        .token_of_kind(&admin_id, "personal", &["domains:write"])
        .await;
    problem(
        request(app, write.as_str(), &s.org, &d, json!({})).await,
        403,
        "reauthentication_required",
    )
    .await;
    let products_only = app
        .token_of_kind(&admin_id, "personal", &["products:read"])
        .await;
    problem(
        send(
            app,
            Method::GET,
            &path(&s.org, &d),
            products_only.as_str(),
            None,
        )
        .await,
        403,
        "insufficient_scope",
    )
    .await;
    assert!(texts_to(app, OWNER).is_empty());
}

/// `activity_record`'s scenario: one record for each transfer-out write.
pub async fn activity_scenario(app: &TestApp, operation: &str, email: &str) -> i64 {
    async fn count(app: &TestApp) -> i64 {
        app.with_conn(|c| {
            leman::db::schema::activities::table
                .count()
                .get_result::<i64>(c)
                .unwrap()
        })
        .await
    }
    let (_, s) = app.signed_in(email).await;
    let org = app.create_org(&s, "Transfer AG").await;
    let label = email
        .split('@')
        .next()
        .unwrap()
        .replace(['.', '+', '_'], "-");
    let d = app
        .registered_domain(&org, &format!("act-{label}.fr"), OWNER)
        .await;
    let before = count(app).await;
    if operation == "request_transfer_out" {
        ok(request(app, &s, &org, &d, json!({})).await, 202).await;
        return count(app).await - before;
    }
    ok(request(app, &s, &org, &d, json!({})).await, 202).await;
    if operation == "cancel_transfer_out" {
        let before = count(app).await;
        ok(
            send(app, Method::DELETE, &path(&org, &d), &s, None).await,
            204,
        )
        .await;
        return count(app).await - before;
    }
    // reject_transfer_out: a registrar asks with the code, the poll applies it.
    let code = code_in_mail(app, &d, OWNER, 1).await;
    let (accepted, out) = simulate(app, &["transfer-request", &d.name, &code]);
    assert!(accepted, "{out}");
    run_poll(app);
    let before = count(app).await;
    ok(
        send(
            app,
            Method::POST,
            &format!("{}/reject", path(&org, &d)),
            &s,
            None,
        )
        .await,
        200,
    )
    .await;
    count(app).await - before
}

#[tokio::test]
async fn r48_the_code_goes_to_the_registrys_whois_owner_not_our_copy() {
    let s = setup().await;
    let app = &s.app;
    let d = app.registered_domain(&s.org, "whois.ch", OWNER).await;
    // The registry's WHOIS names another owner address than our row's copy.
    let (registry, name) = (app.services.registry.clone(), d.name.clone());
    tokio::task::spawn_blocking(move || {
        let owner = leman::domain::domains::Contact {
            name: "Bob Neu".into(),
            organization: None,
            address_line1: "Rue 2".into(),
            address_line2: None,
            postal_code: "1000".into(),
            city: "Lausanne".into(),
            country: "CH".into(),
            email: "new.owner@whois.example".into(),
            phone: None,
        };
        let contacts = leman::domain::domains::Contacts {
            owner: owner.clone(),
            admin: owner.clone(),
            tech: owner,
        };
        registry.update_contacts(&name, &contacts).unwrap();
    })
    .await
    .unwrap();
    let answer = ok(request(app, &s.session, &s.org, &d, json!({})).await, 202).await;
    assert_eq!(answer["recipient"], "n•••@whois.example");
    code_in_mail(app, &d, "new.owner@whois.example", 1).await;
    assert!(texts_to(app, OWNER).is_empty());
}

#[tokio::test]
async fn r48_the_code_mail_is_in_the_owners_language_when_they_are_a_user() {
    let s = setup().await;
    let app = &s.app;
    app.create_user_in("proprietaire@example.ch", "fr").await;
    let d = app
        .registered_domain(&s.org, "langue.ch", "proprietaire@example.ch")
        .await;
    ok(request(app, &s.session, &s.org, &d, json!({})).await, 202).await;
    app.wait_for_mail_containing("proprietaire@example.ch", "Code de transfert")
        .await;
}
