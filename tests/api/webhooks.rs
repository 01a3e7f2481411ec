//! Outgoing webhooks (issue 14): endpoints, the outbox, signed deliveries to a local receiver
//! (Standard Webhooks signatures computed here independently), retries and their schedule,
//! disabling after 5 days of failures, secret rotation, the SSRF rule, the delivery log and its
//! retry route, rolled-back changes, organisations kept apart, access and validation.
//!
//! Time moves by passing a later "now" to `outgoing_webhooks::deliver_due` (what the job passes
//! is the real clock); the server runs no jobs of its own here.

use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use chrono::TimeDelta;
use diesel::prelude::*;
use hmac::{Hmac, Mac};
use reqwest::Method;
use serde_json::{Value, json};
use sha2::Sha256;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{TestApp, TestSession, get_json, ok, problem, send};
use leman::services::outgoing_webhooks::{self, deliver_due};

/// One request the receiver got.
#[derive(Debug, Clone)]
struct Received {
    headers: Vec<(String, String)>,
    body: String,
}

impl Received {
    fn header(&self, name: &str) -> &str {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .unwrap_or_default()
    }
}

/// A local HTTP receiver on port 0 answering `status` to every POST.
struct Receiver {
    url: String,
    got: Arc<Mutex<Vec<Received>>>,
    status: Arc<AtomicU16>,
}

impl Receiver {
    async fn start(status: u16) -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!(
            "http://127.0.0.1:{}/hooks",
            listener.local_addr().unwrap().port()
        );
        let got = Arc::new(Mutex::new(vec![]));
        let status = Arc::new(AtomicU16::new(status));
        let (g, s) = (got.clone(), status.clone());
        tokio::spawn(async move {
            loop {
                let Ok((mut stream, _)) = listener.accept().await else {
                    return;
                };
                let (g, s) = (g.clone(), s.clone());
                tokio::spawn(async move {
                    let mut buf = vec![];
                    let mut chunk = [0u8; 4096];
                    let (head_end, length) = loop {
                        let n = stream.read(&mut chunk).await.unwrap_or(0);
                        if n == 0 {
                            return;
                        }
                        buf.extend_from_slice(&chunk[..n]);
                        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                            let head = String::from_utf8_lossy(&buf[..i]).to_string();
                            let length = head
                                .lines()
                                .find_map(|l| {
                                    let (n, v) = l.split_once(':')?;
                                    n.eq_ignore_ascii_case("content-length")
                                        .then(|| v.trim().parse::<usize>().ok())?
                                })
                                .unwrap_or(0);
                            break (i + 4, length);
                        }
                    };
                    while buf.len() < head_end + length {
                        let n = stream.read(&mut chunk).await.unwrap_or(0);
                        if n == 0 {
                            break;
                        }
                        buf.extend_from_slice(&chunk[..n]);
                    }
                    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
                    let headers = head
                        .lines()
                        .skip(1)
                        .filter_map(|l| l.split_once(':'))
                        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
                        .collect();
                    let body = String::from_utf8_lossy(&buf[head_end..]).to_string();
                    g.lock().unwrap().push(Received { headers, body });
                    let code = s.load(Ordering::SeqCst);
                    let answer = format!(
                        "HTTP/1.1 {code} X\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
                    );
                    let _ = stream.write_all(answer.as_bytes()).await;
                    let _ = stream.shutdown().await;
                });
            }
        });
        Receiver { url, got, status }
    }

    fn received(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }

    fn answer(&self, status: u16) {
        self.status.store(status, Ordering::SeqCst);
    }
}

async fn loopback_app() -> TestApp {
    TestApp::builder()
        .without_jobs()
        .env("LEMAN_WEBHOOKS_ALLOW_LOOPBACK", "true")
        .spawn()
        .await
}

/// An organisation of a new signed-in owner, with a plain member whose permissions the test
/// changes to cause `member.role_changed` events.
struct Org {
    id: String,
    owner: TestSession,
    owner_email: String,
    member_id: String,
}

async fn org(app: &TestApp, email: &str) -> Org {
    let (owner_user, owner) = app.signed_in(email).await;
    let id = app.create_org(&owner, "Webhook SA").await;
    let member = app.create_user(&format!("member.{email}")).await;
    app.add_member(&id, &member.id, "member", &["products"])
        .await;
    Org {
        id,
        owner,
        owner_email: owner_user.email,
        member_id: member.id,
    }
}

impl Org {
    async fn endpoint(&self, app: &TestApp, url: &str, types: &[&str]) -> Value {
        ok(
            send(
                app,
                Method::POST,
                &format!("/v1/orgs/{}/webhook-endpoints", self.id),
                &self.owner,
                Some(json!({"url": url, "event_types": types, "description": "test"})),
            )
            .await,
            201,
        )
        .await
    }

    /// Changes the member's permissions: one `member.role_changed` event.
    async fn change_member(&self, app: &TestApp, permission: &str) {
        ok(
            send(
                app,
                Method::PATCH,
                &format!("/v1/orgs/{}/members/{}", self.id, self.member_id),
                &self.owner,
                Some(json!({"permissions": [permission]})),
            )
            .await,
            200,
        )
        .await;
    }

    async fn deliveries(&self, app: &TestApp, endpoint: &Value) -> Vec<Value> {
        let body = get_json(
            app,
            &self.owner,
            &format!(
                "/v1/orgs/{}/webhook-endpoints/{}/deliveries",
                self.id,
                endpoint["id"].as_str().unwrap()
            ),
        )
        .await;
        body["data"].as_array().unwrap().clone()
    }
}

/// The Standard Webhooks signature, computed here from the specification.
fn expected_signature(secret: &str, id: &str, timestamp: &str, body: &str) -> String {
    let key = base64::engine::general_purpose::STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap())
        .unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
    format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    )
}

fn now() -> chrono::NaiveDateTime {
    leman::db::now()
}

#[tokio::test]
async fn a_delivery_carries_the_event_signed_after_standard_webhooks() {
    let app = loopback_app().await;
    let receiver = Receiver::start(204).await;
    let o = org(&app, "sign@example.com").await;
    let endpoint = o
        .endpoint(&app, &receiver.url, &["member.role_changed"])
        .await;
    let secret = endpoint["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("whsec_"), "{secret}");
    let key = base64::engine::general_purpose::STANDARD
        .decode(&secret["whsec_".len()..])
        .unwrap();
    assert!(key.len() >= 24, "at least 24 random bytes");
    // Never shown again.
    let read = get_json(
        &app,
        &o.owner,
        &format!(
            "/v1/orgs/{}/webhook-endpoints/{}",
            o.id,
            endpoint["id"].as_str().unwrap()
        ),
    )
    .await;
    assert!(read.get("secret").is_none(), "{read}");

    o.change_member(&app, "accounting").await;
    assert_eq!(deliver_due(&app.services, now()).await.unwrap(), 1);
    let got = receiver.received();
    assert_eq!(got.len(), 1, "{got:?}");
    let r = &got[0];
    let (id, ts, sig) = (
        r.header("webhook-id"),
        r.header("webhook-timestamp"),
        r.header("webhook-signature"),
    );
    assert!(id.starts_with("msg_"), "{id}");
    let ts_secs: i64 = ts.parse().unwrap();
    assert!((chrono::Utc::now().timestamp() - ts_secs).abs() < 60);
    assert_eq!(sig, expected_signature(&secret, id, ts, &r.body));
    assert_eq!(r.header("content-type"), "application/json");
    let body: Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(body["type"], "member.role_changed");
    assert!(body["timestamp"].as_str().unwrap().ends_with('Z'), "{body}");
    assert_eq!(body["data"]["organization_id"], o.id.as_str());
    assert_eq!(body["data"]["id"], o.member_id.as_str());
    assert_eq!(body["data"]["user_id"], o.member_id.as_str());

    let log = o.deliveries(&app, &endpoint).await;
    assert_eq!(log.len(), 1);
    assert_eq!(log[0]["status"], "succeeded", "{log:?}");
    assert_eq!(log[0]["attempts"], 1);
    assert_eq!(log[0]["last_status_code"], 204);
    assert_eq!(log[0]["event_id"], id);
    assert!(log[0]["next_attempt_at"].is_null());
    assert!(log[0]["last_duration_ms"].as_i64().is_some());
    // Nothing more is due.
    assert_eq!(deliver_due(&app.services, now()).await.unwrap(), 0);
}

#[tokio::test]
async fn only_subscribed_event_types_are_delivered() {
    let app = loopback_app().await;
    let receiver = Receiver::start(200).await;
    let o = org(&app, "subscribed@example.com").await;
    o.endpoint(&app, &receiver.url, &["invoice.paid"]).await;
    o.change_member(&app, "accounting").await;
    assert_eq!(deliver_due(&app.services, now()).await.unwrap(), 0);
    assert!(receiver.received().is_empty());
}

#[tokio::test]
async fn a_failing_receiver_is_retried_on_the_backoff_schedule() {
    let app = loopback_app().await;
    let receiver = Receiver::start(500).await;
    let o = org(&app, "retry@example.com").await;
    let endpoint = o
        .endpoint(&app, &receiver.url, &["member.role_changed"])
        .await;
    o.change_member(&app, "accounting").await;
    let t0 = now();
    assert_eq!(deliver_due(&app.services, t0).await.unwrap(), 1);
    let log = o.deliveries(&app, &endpoint).await;
    assert_eq!(log[0]["status"], "pending");
    assert_eq!(log[0]["attempts"], 1);
    assert_eq!(log[0]["last_status_code"], 500);
    assert_eq!(log[0]["last_error"], "the endpoint answered 500");
    let next: chrono::DateTime<chrono::Utc> =
        log[0]["next_attempt_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        (next.naive_utc() - t0).num_seconds(),
        5,
        "first retry after 5 s"
    );

    // Not before it is due; then at 5 s, 5 min, 30 min, 2 h, 5 h, 10 h after each attempt.
    assert_eq!(
        deliver_due(&app.services, t0 + TimeDelta::seconds(4))
            .await
            .unwrap(),
        0
    );
    let mut at = t0;
    for (attempt, delay) in [
        (2, 5),
        (3, 300),
        (4, 1800),
        (5, 7200),
        (6, 18000),
        (7, 36000),
    ] {
        at += TimeDelta::seconds(delay);
        assert_eq!(
            deliver_due(&app.services, at).await.unwrap(),
            1,
            "attempt {attempt}"
        );
        let log = o.deliveries(&app, &endpoint).await;
        assert_eq!(log[0]["attempts"], attempt);
    }
    let log = o.deliveries(&app, &endpoint).await;
    let next: chrono::DateTime<chrono::Utc> =
        log[0]["next_attempt_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        (next.naive_utc() - at).num_seconds(),
        36000,
        "then every 10 h"
    );
    assert_eq!(receiver.received().len(), 7);
    // Every retry carries the same webhook-id.
    let ids: std::collections::HashSet<String> = receiver
        .received()
        .iter()
        .map(|r| r.header("webhook-id").to_string())
        .collect();
    assert_eq!(ids.len(), 1);

    // Past 3 days the delivery is given up.
    let late = t0 + TimeDelta::days(3) + TimeDelta::hours(1);
    while deliver_due(&app.services, late).await.unwrap() > 0 {}
    let log = o.deliveries(&app, &endpoint).await;
    assert_eq!(log[0]["status"], "failed", "{log:?}");
    assert!(log[0]["next_attempt_at"].is_null());
}

#[tokio::test]
async fn an_endpoint_failing_for_five_days_is_disabled_and_its_admins_are_told() {
    let app = loopback_app().await;
    let receiver = Receiver::start(503).await;
    let o = org(&app, "disable@example.com").await;
    let endpoint = o
        .endpoint(&app, &receiver.url, &["member.role_changed"])
        .await;
    let path = format!(
        "/v1/orgs/{}/webhook-endpoints/{}",
        o.id,
        endpoint["id"].as_str().unwrap()
    );
    o.change_member(&app, "accounting").await;
    let t0 = now();
    deliver_due(&app.services, t0).await.unwrap();
    let read = get_json(&app, &o.owner, &path).await;
    assert!(read["failing_since"].is_string(), "{read}");
    assert_eq!(read["enabled"], true);

    // Four days on, still failing (the delivery is given up after 3 days): still enabled.
    deliver_due(&app.services, t0 + TimeDelta::days(4))
        .await
        .unwrap();
    assert_eq!(get_json(&app, &o.owner, &path).await["enabled"], true);

    // A new event fails past five days of failures: disabled, and its admins get a mail.
    o.change_member(&app, "domains").await;
    deliver_due(
        &app.services,
        t0 + TimeDelta::days(5) + TimeDelta::minutes(1),
    )
    .await
    .unwrap();
    let read = get_json(&app, &o.owner, &path).await;
    assert_eq!(read["enabled"], false, "{read}");
    assert!(read["disabled_reason"].is_string(), "{read}");
    let owner_email = o.owner_email.clone();
    let mails: Vec<(String, String)> = app
        .with_conn(move |c| {
            use leman::db::schema::mails;
            mails::table
                .filter(mails::to_address.eq(owner_email))
                .filter(mails::template.eq("webhook_endpoint_disabled"))
                .select((mails::subject, mails::text_body))
                .load(c)
                .unwrap()
        })
        .await;
    assert_eq!(
        mails.len(),
        1,
        "the owner (legal representative) is told once"
    );
    assert!(mails[0].1.contains(&receiver.url), "{}", mails[0].1);
    let all_mails: i64 = app
        .with_conn(|c| {
            use leman::db::schema::mails;
            mails::table
                .filter(mails::template.eq("webhook_endpoint_disabled"))
                .count()
                .get_result(c)
                .unwrap()
        })
        .await;
    assert_eq!(all_mails, 1, "plain members are not told");

    // A disabled endpoint gets nothing: its due deliveries are given up.
    let before = receiver.received().len();
    o.change_member(&app, "users").await;
    while deliver_due(&app.services, t0 + TimeDelta::days(6))
        .await
        .unwrap()
        > 0
    {}
    assert_eq!(receiver.received().len(), before);

    // Enabled again, its failure record starts anew.
    let read = ok(
        send(
            &app,
            Method::PATCH,
            &path,
            &o.owner,
            Some(json!({"enabled": true})),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(read["enabled"], true);
    assert!(
        read["failing_since"].is_null() && read["disabled_reason"].is_null(),
        "{read}"
    );
}

#[tokio::test]
async fn a_rotated_secret_signs_alongside_the_old_one_for_24_hours() {
    let app = loopback_app().await;
    let receiver = Receiver::start(200).await;
    let o = org(&app, "rotate@example.com").await;
    let endpoint = o
        .endpoint(&app, &receiver.url, &["member.role_changed"])
        .await;
    let old = endpoint["secret"].as_str().unwrap().to_string();
    let rotated = ok(
        send(
            &app,
            Method::POST,
            &format!(
                "/v1/orgs/{}/webhook-endpoints/{}/secret-rotation",
                o.id,
                endpoint["id"].as_str().unwrap()
            ),
            &o.owner,
            None,
        )
        .await,
        200,
    )
    .await;
    let new = rotated["secret"].as_str().unwrap().to_string();
    assert_ne!(old, new);
    assert!(
        rotated["previous_secret_expires_at"].is_string(),
        "{rotated}"
    );

    o.change_member(&app, "accounting").await;
    deliver_due(&app.services, now()).await.unwrap();
    let r = receiver.received()[0].clone();
    let (id, ts) = (r.header("webhook-id"), r.header("webhook-timestamp"));
    let sigs: Vec<&str> = r.header("webhook-signature").split(' ').collect();
    assert_eq!(sigs.len(), 2, "{sigs:?}");
    assert!(sigs.contains(&expected_signature(&new, id, ts, &r.body).as_str()));
    assert!(sigs.contains(&expected_signature(&old, id, ts, &r.body).as_str()));

    // After 24 hours only the new secret signs.
    o.change_member(&app, "domains").await;
    deliver_due(&app.services, now() + TimeDelta::hours(25))
        .await
        .unwrap();
    let r = receiver.received()[1].clone();
    let (id, ts) = (r.header("webhook-id"), r.header("webhook-timestamp"));
    assert_eq!(
        r.header("webhook-signature"),
        expected_signature(&new, id, ts, &r.body)
    );
}

#[tokio::test]
async fn private_loopback_and_metadata_targets_are_refused() {
    // No development setting: loopback is refused like the rest.
    let app = TestApp::builder().without_jobs().spawn().await;
    let o = org(&app, "ssrf@example.com").await;
    let path = format!("/v1/orgs/{}/webhook-endpoints", o.id);
    for url in [
        "https://10.0.0.1/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[fd00:ec2::254]/",
        "https://localhost/hook",
        "https://127.0.0.1:8443/hook",
        "https://[::ffff:192.168.1.1]/",
        "https://100.64.1.1/",
    ] {
        let res = send(
            &app,
            Method::POST,
            &path,
            &o.owner,
            Some(json!({"url": url, "event_types": ["invoice.paid"]})),
        )
        .await;
        problem(res, 422, "webhook_url_not_allowed").await;
    }
    // Plain http only to loopback, and only with the development setting.
    let res = send(
        &app,
        Method::POST,
        &path,
        &o.owner,
        Some(json!({"url": "http://127.0.0.1:9/hook", "event_types": ["invoice.paid"]})),
    )
    .await;
    let body = problem(res, 422, "validation_failed").await;
    assert_eq!(body["errors"][0]["code"], "https_required", "{body}");
    assert_eq!(
        get_json(&app, &o.owner, &path).await["data"]
            .as_array()
            .unwrap()
            .len(),
        0
    );

    // A name is checked by what it resolves to: `localhost` resolves to loopback.
    let refused = outgoing_webhooks::resolve_checked("localhost", 443, false)
        .await
        .unwrap_err();
    assert!(refused.contains("loopback"), "{refused}");
    let allowed = outgoing_webhooks::resolve_checked("localhost", 443, true)
        .await
        .unwrap();
    assert!(allowed.ip().is_loopback());
    // The setting lets loopback through, nothing else private.
    assert!(
        outgoing_webhooks::resolve_checked("10.0.0.1", 443, true)
            .await
            .is_err()
    );
}

#[tokio::test]
async fn the_address_is_checked_again_at_delivery() {
    let receiver = Receiver::start(200).await;
    // The receiver listens on loopback: without the setting an attempt never reaches it.
    let outcome = outgoing_webhooks::attempt(&receiver.url, false, &[], "{}").await;
    assert!(!outcome.succeeded());
    assert!(outcome.error.is_some(), "{outcome:?}");
    assert!(receiver.received().is_empty());
    // With it, the same attempt goes through.
    let outcome = outgoing_webhooks::attempt(&receiver.url, true, &[], "{}").await;
    assert_eq!(outcome.status_code, Some(200), "{outcome:?}");
}

#[tokio::test]
async fn a_redirect_is_not_followed_and_counts_as_a_failure() {
    let app = loopback_app().await;
    let receiver = Receiver::start(302).await;
    let o = org(&app, "redirect@example.com").await;
    let endpoint = o
        .endpoint(&app, &receiver.url, &["member.role_changed"])
        .await;
    o.change_member(&app, "accounting").await;
    deliver_due(&app.services, now()).await.unwrap();
    assert_eq!(receiver.received().len(), 1);
    let log = o.deliveries(&app, &endpoint).await;
    assert_eq!(log[0]["status"], "pending");
    assert_eq!(log[0]["last_status_code"], 302);
}

#[tokio::test]
async fn the_delivery_log_and_a_retry_by_hand() {
    let app = loopback_app().await;
    let receiver = Receiver::start(500).await;
    let o = org(&app, "log@example.com").await;
    let endpoint = o
        .endpoint(&app, &receiver.url, &["member.role_changed"])
        .await;
    for p in ["accounting", "domains", "users"] {
        o.change_member(&app, p).await;
    }
    deliver_due(&app.services, now()).await.unwrap();
    let ep = endpoint["id"].as_str().unwrap();
    // Newest first, a page at a time.
    let page = get_json(
        &app,
        &o.owner,
        &format!(
            "/v1/orgs/{}/webhook-endpoints/{ep}/deliveries?limit=2",
            o.id
        ),
    )
    .await;
    assert_eq!(page["data"].as_array().unwrap().len(), 2);
    let cursor = page["next_cursor"].as_str().unwrap();
    let rest = get_json(
        &app,
        &o.owner,
        &format!(
            "/v1/orgs/{}/webhook-endpoints/{ep}/deliveries?limit=2&cursor={cursor}",
            o.id
        ),
    )
    .await;
    assert_eq!(rest["data"].as_array().unwrap().len(), 1);
    assert!(rest["next_cursor"].is_null());

    // The receiver is fixed; a retry by hand is due at once.
    receiver.answer(200);
    let delivery = page["data"][0]["id"].as_str().unwrap();
    let retried = ok(
        send(
            &app,
            Method::POST,
            &format!(
                "/v1/orgs/{}/webhook-endpoints/{ep}/deliveries/{delivery}/retry",
                o.id
            ),
            &o.owner,
            None,
        )
        .await,
        202,
    )
    .await;
    assert_eq!(retried["status"], "pending");
    assert_eq!(deliver_due(&app.services, now()).await.unwrap(), 1);
    let log = o.deliveries(&app, &endpoint).await;
    let d = log.iter().find(|d| d["id"] == delivery).unwrap();
    assert_eq!(d["status"], "succeeded", "{d}");
    assert_eq!(d["attempts"], 2);
    assert_eq!(d["last_status_code"], 200);

    // An unknown delivery, or one of another endpoint, is 404.
    let res = send(
        &app,
        Method::POST,
        &format!(
            "/v1/orgs/{}/webhook-endpoints/{ep}/deliveries/whd_0193aaaaaaaa7000800000000000000a/retry",
            o.id
        ),
        &o.owner,
        None,
    )
    .await;
    problem(res, 404, "not_found").await;
}

#[tokio::test]
async fn a_rolled_back_change_queues_nothing() {
    let app = loopback_app().await;
    let receiver = Receiver::start(200).await;
    let o = org(&app, "rollback@example.com").await;
    let endpoint = o
        .endpoint(&app, &receiver.url, &["member.role_changed"])
        .await;
    let (org_id, member) = (o.id.clone(), o.member_id.clone());
    let owner_id = app
        .with_conn({
            let org_id = org_id.clone();
            move |c| {
                use leman::db::schema::memberships;
                memberships::table
                    .filter(memberships::organization_id.eq(org_id))
                    .filter(memberships::role.eq("legal_representative"))
                    .select(memberships::user_id)
                    .first::<String>(c)
                    .unwrap()
            }
        })
        .await;
    let queued_inside = app
        .with_conn(move |c| {
            let mut queued = 0;
            let _ = leman::db::write(c, |c| -> Result<(), diesel::result::Error> {
                let event = leman::services::activity::Event::new(
                    leman::domain::events::ActivityKind::MemberUpdated,
                    &owner_id,
                )
                .organization(&org_id)
                .subject(&member);
                leman::services::activity::record(
                    c,
                    &leman::domain::actor::Origin::system("test"),
                    event,
                )?;
                use leman::db::schema::webhook_deliveries;
                queued = webhook_deliveries::table.count().get_result::<i64>(c)?;
                Err(diesel::result::Error::RollbackTransaction)
            });
            queued
        })
        .await;
    assert_eq!(
        queued_inside, 1,
        "the change queued its delivery in its transaction"
    );
    assert_eq!(deliver_due(&app.services, now()).await.unwrap(), 0);
    assert!(receiver.received().is_empty());
    assert!(o.deliveries(&app, &endpoint).await.is_empty());
}

#[tokio::test]
async fn events_never_cross_organisations() {
    let app = loopback_app().await;
    let (ra, rb) = (Receiver::start(200).await, Receiver::start(200).await);
    let a = org(&app, "a@example.com").await;
    let b = org(&app, "b@example.com").await;
    let ea = a.endpoint(&app, &ra.url, &["member.role_changed"]).await;
    let eb = b.endpoint(&app, &rb.url, &["member.role_changed"]).await;
    a.change_member(&app, "accounting").await;
    deliver_due(&app.services, now()).await.unwrap();
    assert_eq!(ra.received().len(), 1);
    assert!(rb.received().is_empty());
    assert_eq!(a.deliveries(&app, &ea).await.len(), 1);
    assert!(b.deliveries(&app, &eb).await.is_empty());
    let body: Value = serde_json::from_str(&ra.received()[0].body).unwrap();
    assert_eq!(body["data"]["organization_id"], a.id.as_str());
}

#[tokio::test]
async fn only_admins_of_the_organisation_reach_its_endpoints() {
    let app = loopback_app().await;
    let receiver = Receiver::start(200).await;
    let a = org(&app, "owner-a@example.com").await;
    let b = org(&app, "owner-b@example.com").await;
    let endpoint = a.endpoint(&app, &receiver.url, &["invoice.paid"]).await;
    let ep = endpoint["id"].as_str().unwrap();
    let list = format!("/v1/orgs/{}/webhook-endpoints", a.id);
    let one = format!("{list}/{ep}");

    // A plain member of the organisation: 403.
    let (member_user, member) = app.signed_in("plain@example.com").await;
    app.add_member(&a.id, &member_user.id, "member", &["accounting", "users"])
        .await;
    for (method, path) in [
        (Method::GET, list.clone()),
        (Method::GET, one.clone()),
        (Method::DELETE, one.clone()),
        (Method::GET, format!("{one}/deliveries")),
        (Method::POST, format!("{one}/secret-rotation")),
    ] {
        problem(
            send(&app, method, &path, &member, None).await,
            403,
            "permission_denied",
        )
        .await;
    }
    // An admin of another organisation: 404 through either organisation's path.
    problem(
        send(&app, Method::GET, &one, &b.owner, None).await,
        404,
        "not_found",
    )
    .await;
    problem(
        send(
            &app,
            Method::GET,
            &format!("/v1/orgs/{}/webhook-endpoints/{ep}", b.id),
            &b.owner,
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
            Method::DELETE,
            &format!("/v1/orgs/{}/webhook-endpoints/{ep}", b.id),
            &b.owner,
            None,
        )
        .await,
        404,
        "not_found",
    )
    .await;
    // A malformed id is 404 too.
    problem(
        send(
            &app,
            Method::GET,
            &format!("{list}/whe_nope"),
            &a.owner,
            None,
        )
        .await,
        404,
        "not_found",
    )
    .await;
    // An admin works; deleting takes the endpoint and its log.
    let admin = app.signed_in("admin-a@example.com").await;
    app.add_member(&a.id, &admin.0.id, "admin", &[]).await;
    assert_eq!(
        get_json(&app, &admin.1, &list).await["data"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    ok(send(&app, Method::DELETE, &one, &admin.1, None).await, 204).await;
    problem(
        send(&app, Method::GET, &one, &a.owner, None).await,
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn invalid_endpoints_are_refused_with_field_errors() {
    let app = loopback_app().await;
    let o = org(&app, "invalid@example.com").await;
    let path = format!("/v1/orgs/{}/webhook-endpoints", o.id);
    let long = "x".repeat(501);
    for (body, field, code) in [
        (
            json!({"url": "https://hooks.example.com/", "event_types": ["invoice.nope"]}),
            "/event_types/0",
            "unknown_event_type",
        ),
        (
            json!({"url": "https://hooks.example.com/", "event_types": []}),
            "/event_types",
            "required",
        ),
        (
            json!({"url": "ftp://hooks.example.com/", "event_types": ["invoice.paid"]}),
            "/url",
            "https_required",
        ),
        (
            json!({"url": "http://hooks.example.com/", "event_types": ["invoice.paid"]}),
            "/url",
            "https_required",
        ),
        (
            json!({"url": "not a url", "event_types": ["invoice.paid"]}),
            "/url",
            "invalid_url",
        ),
        (
            json!({"url": "", "event_types": ["invoice.paid"]}),
            "/url",
            "required",
        ),
        (
            json!({"url": "https://user:pw@hooks.example.com/", "event_types": ["invoice.paid"]}),
            "/url",
            "invalid_url",
        ),
        (
            json!({"url": "https://hooks.example.com/", "event_types": ["invoice.paid"], "description": long}),
            "/description",
            "invalid",
        ),
    ] {
        let res = send(&app, Method::POST, &path, &o.owner, Some(body.clone())).await;
        let problem_body = problem(res, 422, "validation_failed").await;
        assert_eq!(
            problem_body["errors"][0]["field"], field,
            "{body} → {problem_body}"
        );
        assert_eq!(
            problem_body["errors"][0]["code"], code,
            "{body} → {problem_body}"
        );
    }
    // Unknown fields and wrong types are refused too, never a 500.
    for body in [
        json!({"url": "https://hooks.example.com/", "event_types": ["invoice.paid"], "secret": "whsec_x"}),
        json!({"url": 12, "event_types": ["invoice.paid"]}),
        json!({"url": "https://hooks.example.com/", "event_types": "invoice.paid"}),
    ] {
        let res = send(&app, Method::POST, &path, &o.owner, Some(body)).await;
        assert_eq!(res.status(), 422);
    }
    assert!(
        get_json(&app, &o.owner, &path).await["data"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn the_event_types_are_listed_with_a_schema_each() {
    let app = TestApp::builder().without_jobs().spawn().await;
    let res = app.get("/v1/event-types").await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    let types: Vec<&str> = body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["type"].as_str().unwrap())
        .collect();
    for wanted in [
        "invoice.issued",
        "invoice.paid",
        "invoice.refunded",
        "payment.succeeded",
        "payment.failed",
        "prepaid.credited",
        "prepaid.debited",
        "product.created",
        "product.renewed",
        "product.expired",
        "product.suspended",
        "product.cancelled",
        "renewal.failed",
        "domain.transfer_out.code_sent",
        "domain.transfer_out.requested",
        "domain.transfer_out.completed",
        "member.joined",
        "member.left",
        "member.role_changed",
        "organization.security_policy_changed",
    ] {
        assert!(types.contains(&wanted), "{wanted} missing from {types:?}");
    }
    for t in body["data"].as_array().unwrap() {
        assert_eq!(t["schema"]["properties"]["type"]["const"], t["type"], "{t}");
        assert!(t["description"].as_str().is_some_and(|d| !d.is_empty()));
    }
}

#[tokio::test]
async fn a_paid_order_sends_invoice_and_product_events() {
    let app = loopback_app().await;
    let receiver = Receiver::start(200).await;
    let (_, owner) = app.signed_in("order-events@example.com").await;
    let (org_id, _card) = app.funded_org(&owner, "Orders SA", "500.00").await;
    ok(
        send(
            &app,
            Method::POST,
            &format!("/v1/orgs/{org_id}/webhook-endpoints"),
            &owner,
            Some(json!({"url": receiver.url, "event_types": ["invoice.issued", "invoice.paid", "product.created"]})),
        )
        .await,
        201,
    )
    .await;
    let order = ok(
        send(
            &app,
            Method::POST,
            &format!("/v1/orgs/{org_id}/orders"),
            &owner,
            Some(json!({"items": [{"offer_id": "domain-ch", "billing_period": "P1Y", "domain_name": crate::helpers::fresh_domain("ch")}], "payment": {"method": "prepaid"}})),
        )
        .await,
        201,
    )
    .await;
    while deliver_due(&app.services, now()).await.unwrap() > 0 {}
    let bodies: Vec<Value> = receiver
        .received()
        .iter()
        .map(|r| serde_json::from_str(&r.body).unwrap())
        .collect();
    let of = |t: &str| bodies.iter().find(|b| b["type"] == t).cloned();
    let issued = of("invoice.issued").expect("invoice.issued");
    assert_eq!(issued["data"]["id"], order["invoice_id"], "{issued}");
    let paid = of("invoice.paid").expect("invoice.paid");
    assert_eq!(paid["data"]["id"], order["invoice_id"], "{paid}");
    let created = of("product.created").expect("product.created");
    assert_eq!(created["data"]["offer_id"], "domain-ch", "{created}");
    assert_eq!(created["data"]["organization_id"], org_id.as_str());
    assert!(created["data"]["id"].as_str().unwrap().starts_with("prd_"));
    assert_eq!(bodies.len(), 3, "{bodies:?}");
}

/// The activity record's walk (tests/api/activity_record.rs): one successful call of a webhook
/// write route; returns how many activity rows it added. A literal public address passes the
/// address check without any lookup, and nothing is delivered here.
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
    let o = org(app, email).await;
    let list = format!("/v1/orgs/{}/webhook-endpoints", o.id);
    let body = json!({"url": "https://1.1.1.1/hooks", "event_types": ["member.role_changed"]});
    if operation == "create_webhook_endpoint" {
        let before = count(app).await;
        ok(
            send(app, Method::POST, &list, &o.owner, Some(body)).await,
            201,
        )
        .await;
        return count(app).await - before;
    }
    let endpoint = ok(
        send(app, Method::POST, &list, &o.owner, Some(body)).await,
        201,
    )
    .await;
    let one = format!("{list}/{}", endpoint["id"].as_str().unwrap());
    let delivery = if operation == "retry_webhook_delivery" {
        o.change_member(app, "accounting").await;
        let log = o.deliveries(app, &endpoint).await;
        Some(log[0]["id"].as_str().unwrap().to_string())
    } else {
        None
    };
    let before = count(app).await;
    let res = match operation {
        "update_webhook_endpoint" => {
            send(
                app,
                Method::PATCH,
                &one,
                &o.owner,
                Some(json!({"description": "renamed"})),
            )
            .await
        }
        "delete_webhook_endpoint" => send(app, Method::DELETE, &one, &o.owner, None).await,
        "rotate_webhook_endpoint_secret" => {
            send(
                app,
                Method::POST,
                &format!("{one}/secret-rotation"),
                &o.owner,
                None,
            )
            .await
        }
        "retry_webhook_delivery" => {
            let d = delivery.unwrap();
            send(
                app,
                Method::POST,
                &format!("{one}/deliveries/{d}/retry"),
                &o.owner,
                None,
            )
            .await
        }
        other => panic!("no webhook scenario for {other}"),
    };
    assert!(res.status().is_success(), "{operation}: {}", res.status());
    count(app).await - before
}

/// A webhook endpoint of `org_id` (to a literal public address, never called here) with one
/// delivery, written straight to the database: (endpoint id, delivery id). For the route walks
/// (tests/api/org_access.rs).
pub async fn endpoint_with_delivery(app: &TestApp, org_id: &str) -> (String, String) {
    let org_id = org_id.to_string();
    app.with_conn(move |c| {
        use leman::models::{webhook_deliveries as d, webhook_endpoints as e};
        let now = leman::db::now();
        let endpoint = e::WebhookEndpoint {
            id: leman::domain::ids::WebhookEndpointId::generate().into_inner(),
            organization_id: org_id.clone(),
            url: "https://1.1.1.1/hooks".into(),
            description: String::new(),
            event_types: r#"["invoice.paid"]"#.into(),
            enabled: true,
            secret: outgoing_webhooks::new_secret(),
            previous_secret: None,
            previous_secret_expires_at: None,
            failing_since: None,
            disabled_reason: None,
            created_at: now,
            updated_at: now,
        };
        e::insert(c, &endpoint).unwrap();
        let delivery = d::WebhookDelivery {
            id: leman::domain::ids::WebhookDeliveryId::generate().into_inner(),
            endpoint_id: endpoint.id.clone(),
            organization_id: org_id,
            event_id: leman::db::new_id("msg"),
            event_type: "invoice.paid".into(),
            payload: "{}".into(),
            status: d::FAILED.into(),
            attempts: 1,
            next_attempt_at: None,
            claimed_until: None,
            last_attempt_at: Some(now),
            last_status_code: Some(500),
            last_duration_ms: Some(3),
            last_error: Some("the endpoint answered 500".into()),
            created_at: now,
        };
        d::insert(c, &delivery).unwrap();
        (endpoint.id, delivery.id)
    })
    .await
}

#[tokio::test]
async fn a_secret_is_never_replayed_from_the_idempotency_store() {
    let app = loopback_app().await;
    let o = org(&app, "idem@example.com").await;
    let body = json!({"url": "https://1.1.1.1/hooks", "event_types": ["invoice.paid"]});
    let path = format!("/v1/orgs/{}/webhook-endpoints", o.id);
    let mut secrets = vec![];
    for _ in 0..2 {
        let res = crate::helpers::send_with(
            &app,
            Method::POST,
            &path,
            &o.owner,
            Some(body.clone()),
            &[("Idempotency-Key", "same-key")],
        )
        .await;
        assert_eq!(res.headers()["cache-control"], "no-store");
        assert!(res.headers().get("idempotent-replayed").is_none());
        let created = ok(res, 201).await;
        secrets.push(created["secret"].as_str().unwrap().to_string());
    }
    assert_ne!(secrets[0], secrets[1], "two endpoints, each its own secret");
}

// --- From the attack review -----------------------------------------------------------------

#[tokio::test]
async fn a_token_subscribes_only_to_events_it_could_read_itself() {
    let app = loopback_app().await;
    let (user, session) = app.signed_in("scoped.hooks@example.com").await;
    let org = app.create_org(&session, "Scoped Hooks SA").await;
    let path = format!("/v1/orgs/{org}/webhook-endpoints");
    let orgs_only = app
        .token_of_kind(&user.id, "personal", &["orgs:read", "orgs:write"])
        .await;
    let body = |types: &[&str]| json!({"url": "http://127.0.0.1:9/hook", "event_types": types});
    // Invoices, products and domains are read with their own scopes: an `orgs:write` token
    // may not learn them through an endpoint it registers.
    for types in [
        &["invoice.paid"][..],
        &["member.joined", "product.created"],
        &["domain.transfer_out.requested"],
    ] {
        let res = send(&app, Method::POST, &path, &orgs_only, Some(body(types))).await;
        problem(res, 403, "insufficient_scope").await;
    }
    ok(
        send(
            &app,
            Method::POST,
            &path,
            &orgs_only,
            Some(body(&["member.joined"])),
        )
        .await,
        201,
    )
    .await;
    let created = get_json(&app, &session, &path).await;
    let id = created["data"][0]["id"].as_str().unwrap().to_string();
    // Nor widened later.
    let res = send(
        &app,
        Method::PATCH,
        &format!("{path}/{id}"),
        &orgs_only,
        Some(json!({"event_types": ["payment.succeeded"]})),
    )
    .await;
    problem(res, 403, "insufficient_scope").await;
    // A token holding the billing scope too may.
    let billing = app
        .token_of_kind(&user.id, "personal", &["orgs:write", "billing:read"])
        .await;
    ok(
        send(
            &app,
            Method::POST,
            &path,
            &billing,
            Some(body(&["invoice.paid"])),
        )
        .await,
        201,
    )
    .await;
}

#[tokio::test]
async fn a_url_with_control_characters_is_refused_not_stored_altered() {
    let app = loopback_app().await;
    let o = org(&app, "ctl.hooks@example.com").await;
    let path = format!("/v1/orgs/{}/webhook-endpoints", o.id);
    for url in [
        "https://hooks.exa\nmple.com/",
        "https://hooks.example.com/\tx",
        "http://127.0.0.1:9/a\rb",
    ] {
        let res = send(
            &app,
            Method::POST,
            &path,
            &o.owner,
            Some(json!({"url": url, "event_types": ["member.joined"]})),
        )
        .await;
        let body = problem(res, 422, "validation_failed").await;
        assert_eq!(body["errors"][0]["field"], "/url", "{body}");
    }
}

#[tokio::test]
async fn a_refused_name_does_not_reveal_the_address_it_resolves_to() {
    let app = TestApp::builder().without_jobs().spawn().await;
    let o = org(&app, "dns.hooks@example.com").await;
    let res = send(
        &app,
        Method::POST,
        &format!("/v1/orgs/{}/webhook-endpoints", o.id),
        &o.owner,
        Some(json!({"url": "https://localhost:8443/hook", "event_types": ["member.joined"]})),
    )
    .await;
    let body = problem(res, 422, "webhook_url_not_allowed").await;
    let detail = body["detail"].as_str().unwrap();
    assert!(
        !detail.contains("127.0.0.1") && !detail.contains("::1"),
        "{detail}"
    );
}

// ---------------------------------------------------------------------------------------------
// Payloads: `data` is the resource as the API shows it (issue 14).

/// Checks `value` against the JSON schema `root` (as `GET /v1/event-types` gives it): `$ref`
/// into `$defs`, `allOf`/`anyOf`/`oneOf`, `type`, `const`, `enum`, `required`, `properties`,
/// `additionalProperties: false` and `items` (patterns and formats are not checked here: the
/// crate has no regex engine among its dependencies). Returns every violation with its path.
pub fn schema_violations(root: &Value, value: &Value) -> Vec<String> {
    fn check(root: &Value, schema: &Value, value: &Value, at: &str, out: &mut Vec<String>) {
        if let Some(r) = schema["$ref"].as_str() {
            let name = r.strip_prefix("#/$defs/").expect("a local reference");
            let target = &root["$defs"][name];
            assert!(target.is_object(), "{r} is not under $defs");
            check(root, target, value, at, out);
        }
        for s in schema["allOf"].as_array().into_iter().flatten() {
            check(root, s, value, at, out);
        }
        for (key, exactly_one) in [("anyOf", false), ("oneOf", true)] {
            if let Some(options) = schema[key].as_array() {
                let fits = options
                    .iter()
                    .filter(|s| {
                        let mut o = vec![];
                        check(root, s, value, at, &mut o);
                        o.is_empty()
                    })
                    .count();
                if fits == 0 || (exactly_one && fits > 1) {
                    out.push(format!("{at}: {fits} of {key} fit"));
                }
            }
        }
        let type_of = |v: &Value| match v {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        };
        let types: Vec<&str> = match &schema["type"] {
            Value::String(t) => vec![t.as_str()],
            Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        let actual = type_of(value);
        let fits = types.is_empty()
            || types.contains(&actual)
            || (actual == "integer" && types.contains(&"number"));
        if !fits {
            out.push(format!("{at}: {actual}, not {types:?}"));
            return;
        }
        if let Some(c) = schema.get("const")
            && c != value
        {
            out.push(format!("{at}: {value} is not {c}"));
        }
        if let Some(e) = schema["enum"].as_array()
            && !e.contains(value)
        {
            out.push(format!("{at}: {value} not in {e:?}"));
        }
        if let Value::Object(map) = value {
            for r in schema["required"].as_array().into_iter().flatten() {
                if !map.contains_key(r.as_str().unwrap()) {
                    out.push(format!("{at}: `{r}` is required"));
                }
            }
            let properties = schema["properties"].as_object();
            for (k, v) in map {
                match properties.and_then(|p| p.get(k)) {
                    Some(s) => check(root, s, v, &format!("{at}/{k}"), out),
                    None if schema["additionalProperties"] == false => {
                        out.push(format!("{at}: `{k}` is not allowed"))
                    }
                    None => {}
                }
            }
        }
        if let (Value::Array(items), Some(s)) = (value, schema.get("items")) {
            for (i, v) in items.iter().enumerate() {
                check(root, s, v, &format!("{at}/{i}"), out);
            }
        }
    }
    let mut out = vec![];
    check(root, root, value, "", &mut out);
    out
}

/// `body` (a delivery's) validates against the schema `GET /v1/event-types` gives its type.
pub async fn assert_valid_payload(app: &TestApp, body: &Value) {
    let types: Value = app.get("/v1/event-types").await.json().await.unwrap();
    let schema = types["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["type"] == body["type"])
        .unwrap_or_else(|| panic!("no schema for {}", body["type"]))["schema"]
        .clone();
    let violations = schema_violations(&schema, body);
    assert!(violations.is_empty(), "{violations:?}\n{body}");
}

/// `data` is `shown` (what the API's read route answers for the resource) with `id`,
/// `organization_id` and `change` added, and nothing else.
pub fn assert_data_is_the_view(data: &Value, shown: &Value, org_id: &str, id: &str) {
    let mut data = data.as_object().expect("data is an object").clone();
    assert_eq!(data.remove("organization_id"), Some(json!(org_id)));
    assert!(
        data.remove("change").is_some_and(|c| c.is_object()),
        "data.change"
    );
    assert_eq!(data["id"], id, "data.id");
    if shown.get("id").is_none() {
        data.remove("id");
    }
    assert_eq!(Value::Object(data), *shown);
}

fn bodies(receiver: &Receiver) -> Vec<Value> {
    receiver
        .received()
        .iter()
        .map(|r| serde_json::from_str(&r.body).unwrap())
        .collect()
}

fn only(bodies: &[Value], t: &str) -> Value {
    let of: Vec<&Value> = bodies.iter().filter(|b| b["type"] == t).collect();
    assert_eq!(of.len(), 1, "one {t}: {bodies:?}");
    of[0].clone()
}

#[tokio::test]
async fn billing_payloads_are_the_resources_as_their_read_routes_show_them() {
    let app = loopback_app().await;
    let receiver = Receiver::start(200).await;
    let (_, owner) = app.signed_in("payloads@example.com").await;
    let org_id = app.create_org(&owner, "Payloads SA").await;
    ok(
        send(
            &app,
            Method::POST,
            &format!("/v1/orgs/{org_id}/webhook-endpoints"),
            &owner,
            Some(json!({"url": receiver.url, "event_types": ["prepaid.credited", "invoice.issued", "invoice.paid", "product.created", "prepaid.debited"]})),
        )
        .await,
        201,
    )
    .await;

    // prepaid.credited: the ledger's movement, as list_prepaid_transactions shows it.
    let card = app
        .add_payment_method(
            &owner,
            &org_id,
            json!({"type": "card", "token": "tok_visa"}),
        )
        .await;
    let payment = ok(
        send(
            &app,
            Method::POST,
            &format!("/v1/orgs/{org_id}/prepaid-account/top-ups"),
            &owner,
            Some(json!({"amount": {"amount": "300.00", "currency": "CHF"}, "payment_method_id": card})),
        )
        .await,
        201,
    )
    .await;
    let ledger = get_json(
        &app,
        &owner,
        &format!("/v1/orgs/{org_id}/prepaid-account/transactions"),
    )
    .await;
    let credit = ledger["data"][0].clone();
    assert_eq!(credit["payment_id"], payment["id"], "{ledger}");
    while deliver_due(&app.services, now()).await.unwrap() > 0 {}
    let credited = only(&bodies(&receiver), "prepaid.credited");
    assert_data_is_the_view(
        &credited["data"],
        &credit,
        &org_id,
        credit["id"].as_str().unwrap(),
    );
    assert_valid_payload(&app, &credited).await;

    // invoice.issued, invoice.paid and product.created: an order paid from the prepaid account.
    let order = ok(
        send(
            &app,
            Method::POST,
            &format!("/v1/orgs/{org_id}/orders"),
            &owner,
            Some(json!({"items": [{"offer_id": "domain-ch", "billing_period": "P1Y", "domain_name": crate::helpers::fresh_domain("ch")}], "payment": {"method": "prepaid"}})),
        )
        .await,
        201,
    )
    .await;
    let invoice_id = order["invoice_id"].as_str().unwrap();
    let invoice = get_json(
        &app,
        &owner,
        &format!("/v1/orgs/{org_id}/invoices/{invoice_id}"),
    )
    .await;
    let product_id = order["products"][0]["id"].as_str().unwrap();
    let product = get_json(
        &app,
        &owner,
        &format!("/v1/orgs/{org_id}/products/{product_id}"),
    )
    .await;
    while deliver_due(&app.services, now()).await.unwrap() > 0 {}
    let all = bodies(&receiver);
    let paid = only(&all, "invoice.paid");
    assert_data_is_the_view(&paid["data"], &invoice, &org_id, invoice_id);
    assert_eq!(invoice["status"], "paid", "{invoice}");
    assert!(paid["data"]["change"]["payment_id"].is_string(), "{paid}");
    assert_valid_payload(&app, &paid).await;
    // Issued in the same transaction as paid here: as the change that issued it left it.
    let issued = only(&all, "invoice.issued");
    assert_eq!(issued["data"]["id"], invoice_id);
    assert_eq!(issued["data"]["number"], invoice["number"]);
    assert_eq!(issued["data"]["change"]["order_id"], order["id"]);
    assert_valid_payload(&app, &issued).await;
    let created = only(&all, "product.created");
    assert_data_is_the_view(&created["data"], &product, &org_id, product_id);
    assert_valid_payload(&app, &created).await;

    // The order's debit of the prepaid account is no withdrawal: no prepaid.debited.
    assert!(
        all.iter().all(|b| b["type"] != "prepaid.debited"),
        "{all:?}"
    );
}

#[tokio::test]
async fn member_payloads_are_the_member_as_the_list_shows_them() {
    // With jobs: the invitation's mail is sent by one (deliveries are claimed once, so the
    // delivery job and `deliver_due` here never send one twice).
    let app = TestApp::builder()
        .env("LEMAN_WEBHOOKS_ALLOW_LOOPBACK", "true")
        .spawn()
        .await;
    let receiver = Receiver::start(200).await;
    let o = org(&app, "member-payloads@example.com").await;
    o.endpoint(
        &app,
        &receiver.url,
        &["member.joined", "member.role_changed", "member.left"],
    )
    .await;
    let newcomer = "new.member-payloads@example.com";
    ok(
        send(
            &app,
            Method::POST,
            &format!("/v1/orgs/{}/invitations", o.id),
            &o.owner,
            Some(json!({"email": newcomer, "role": "member", "permissions": ["domains"]})),
        )
        .await,
        201,
    )
    .await;
    let token = crate::helpers::link_token(
        &app.wait_for_mail_containing(newcomer, "/accept-invitation?token=")
            .await,
        "/accept-invitation",
    );
    let (user, session) = app.signed_in(newcomer).await;
    let res = send(
        &app,
        Method::POST,
        "/v1/invitations/accept",
        &session,
        Some(json!({"token": token})),
    )
    .await;
    assert!(res.status().is_success(), "{}", res.status());
    let members = get_json(&app, &o.owner, &format!("/v1/orgs/{}/members", o.id)).await;
    let shown = members["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["user_id"] == user.id.as_str())
        .unwrap()
        .clone();
    while deliver_due(&app.services, now()).await.unwrap() > 0 {}
    let joined = only(&bodies(&receiver), "member.joined");
    assert_data_is_the_view(&joined["data"], &shown, &o.id, &user.id);
    assert!(
        joined["data"]["change"]["invitation_id"].is_string(),
        "{joined}"
    );
    assert_valid_payload(&app, &joined).await;

    // role_changed: the member after the change, the previous grant under `change`.
    o.change_member(&app, "accounting").await;
    while deliver_due(&app.services, now()).await.unwrap() > 0 {}
    let changed = only(&bodies(&receiver), "member.role_changed");
    assert_eq!(
        changed["data"]["permissions"],
        json!(["accounting"]),
        "{changed}"
    );
    assert_eq!(
        changed["data"]["change"]["previous_permissions"],
        json!(["products"]),
        "{changed}"
    );
    assert_valid_payload(&app, &changed).await;

    // left: the membership is gone, the event still goes, with the member as last known.
    let res = send(
        &app,
        Method::DELETE,
        &format!("/v1/orgs/{}/members/{}", o.id, o.member_id),
        &o.owner,
        None,
    )
    .await;
    assert!(res.status().is_success(), "{}", res.status());
    while deliver_due(&app.services, now()).await.unwrap() > 0 {}
    let left = only(&bodies(&receiver), "member.left");
    let data = &left["data"];
    assert_eq!(data["id"], o.member_id.as_str());
    assert_eq!(data["user_id"], o.member_id.as_str());
    assert_eq!(data["email"], "member.member-payloads@example.com");
    assert_eq!(data["role"], "member");
    assert_eq!(data["change"]["reason"], "removed");
    assert!(data["change"]["removed_by"].is_string(), "{left}");
    assert_valid_payload(&app, &left).await;
}

#[tokio::test]
async fn a_security_policy_change_carries_the_policy_and_what_it_was() {
    let app = loopback_app().await;
    let receiver = Receiver::start(200).await;
    let o = org(&app, "policy-payloads@example.com").await;
    o.endpoint(
        &app,
        &receiver.url,
        &["organization.security_policy_changed"],
    )
    .await;
    app.enable_two_factor(&o.owner).await;
    ok(
        send(
            &app,
            Method::PUT,
            &format!("/v1/orgs/{}/security-policy", o.id),
            &o.owner,
            Some(json!({"require_two_factor": true})),
        )
        .await,
        200,
    )
    .await;
    let shown = get_json(
        &app,
        &o.owner,
        &format!("/v1/orgs/{}/security-policy", o.id),
    )
    .await;
    while deliver_due(&app.services, now()).await.unwrap() > 0 {}
    let body = only(&bodies(&receiver), "organization.security_policy_changed");
    assert_data_is_the_view(&body["data"], &shown, &o.id, &o.id);
    assert_eq!(body["data"]["change"]["previous_require_two_factor"], false);
    assert_valid_payload(&app, &body).await;
}

#[test]
fn the_schema_check_itself_refuses_what_does_not_fit() {
    let schema = json!({
        "type": "object", "required": ["type", "data"], "additionalProperties": false,
        "properties": {"type": {"const": "x"}, "data": {"$ref": "#/$defs/D"}},
        "$defs": {"D": {"type": "object", "required": ["id"], "properties": {
            "id": {"type": "string"}, "n": {"type": ["integer", "null"]}}}},
    });
    assert!(
        schema_violations(
            &schema,
            &json!({"type": "x", "data": {"id": "a", "n": null}})
        )
        .is_empty()
    );
    assert_eq!(
        schema_violations(&schema, &json!({"type": "y", "data": {}, "z": 1})).len(),
        3
    );
    assert_eq!(
        schema_violations(&schema, &json!({"type": "x", "data": {"id": 1, "n": "s"}})).len(),
        2
    );
}

/// `payment.succeeded`: a settled card payment, as the API showed it, with what it paid.
#[tokio::test]
async fn a_settled_payment_publishes_payment_succeeded() {
    let app = loopback_app().await;
    let receiver = Receiver::start(200).await;
    let (_, owner) = app.signed_in("payment-ok@example.com").await;
    let org_id = app.create_org(&owner, "Payments SA").await;
    let hook = json!({"url": receiver.url, "event_types": ["payment.succeeded"]});
    let path = format!("/v1/orgs/{org_id}/webhook-endpoints");
    ok(
        send(&app, Method::POST, &path, &owner, Some(hook)).await,
        201,
    )
    .await;
    let card = app
        .add_payment_method(
            &owner,
            &org_id,
            json!({"type": "card", "token": "tok_visa"}),
        )
        .await;
    let payment = ok(
        send(
            &app,
            Method::POST,
            &format!("/v1/orgs/{org_id}/prepaid-account/top-ups"),
            &owner,
            Some(json!({"amount": {"amount": "40.00", "currency": "CHF"}, "payment_method_id": card})),
        )
        .await,
        201,
    )
    .await;
    while deliver_due(&app.services, now()).await.unwrap() > 0 {}
    let event = only(&bodies(&receiver), "payment.succeeded");
    let data = &event["data"];
    assert_eq!(data["id"], payment["id"], "{event}");
    assert_eq!(data["organization_id"], org_id.as_str());
    assert_eq!(data["status"], "succeeded", "{event}");
    assert_eq!(data["change"]["purpose"], "top_up", "{event}");
    assert_valid_payload(&app, &event).await;
}

/// Attack review: a token that could not subscribe to an endpoint's events may not steer it
/// either (move its URL, rotate its secret, replay its deliveries).
#[tokio::test]
async fn a_token_may_not_steer_an_endpoint_whose_events_it_could_not_read() {
    let app = loopback_app().await;
    let (user, session) = app.signed_in("steer.hooks@example.com").await;
    let org = app.create_org(&session, "Steer Hooks SA").await;
    let path = format!("/v1/orgs/{org}/webhook-endpoints");
    let created = ok(
        send(
            &app,
            Method::POST,
            &path,
            &session,
            Some(json!({"url": "http://127.0.0.1:9/hook", "event_types": ["invoice.paid"]})),
        )
        .await,
        201,
    )
    .await;
    let id = created["id"].as_str().unwrap();
    let orgs_only = app
        .token_of_kind(&user.id, "personal", &["orgs:read", "orgs:write"])
        .await;
    let res = send(
        &app,
        Method::PATCH,
        &format!("{path}/{id}"),
        &orgs_only,
        Some(json!({"url": "http://127.0.0.1:8/elsewhere"})),
    )
    .await;
    problem(res, 403, "insufficient_scope").await;
    let res = send(
        &app,
        Method::POST,
        &format!("{path}/{id}/secret-rotation"),
        &orgs_only,
        None,
    )
    .await;
    problem(res, 403, "insufficient_scope").await;
    let endpoint = get_json(&app, &session, &format!("{path}/{id}")).await;
    assert_eq!(endpoint["url"], "http://127.0.0.1:9/hook", "unchanged");
    // The person's session (every scope) still may.
    ok(
        send(
            &app,
            Method::PATCH,
            &format!("{path}/{id}"),
            &session,
            Some(json!({"url": "http://127.0.0.1:8/elsewhere"})),
        )
        .await,
        200,
    )
    .await;
}
