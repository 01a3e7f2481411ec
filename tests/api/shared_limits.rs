//! Several instances on one database (issue 15): sign-in allowances are shared on PostgreSQL,
//! so three instances do not triple them.

use std::collections::HashMap;

use leman::db::Engine;
use leman::startup::{Application, Services};
use serde_json::json;

use crate::helpers::*;

/// Another instance serving the same database as `app`, with `vars`; answers on its own port.
async fn second_instance(app: &TestApp, vars: &[(&str, &str)]) -> (String, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let vars: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .chain([("LEMAN_JOBS".to_string(), "false".to_string())])
        .collect();
    let config = test_config(dir.path(), &app.db.url, vars);
    let services = Services::start(config)
        .await
        .expect("second instance starts");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let server = Application::with_listener(services, listener).expect("server builds");
    let address = format!("http://127.0.0.1:{}", server.port());
    tokio::spawn(server.run_until_stopped(None));
    (address, dir)
}

async fn login_status(client: &reqwest::Client, base: &str) -> u16 {
    client
        .post(format!("{base}/v1/auth/login"))
        .json(&json!({"email": "x@example.ch", "password": "whatever it is"}))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn n_instances_share_the_sign_in_allowance_on_postgresql() {
    let vars = [("LEMAN_AUTH_RATE_PER_IP", "4")];
    let app = TestApp::builder()
        .env("LEMAN_AUTH_RATE_PER_IP", "4")
        .spawn()
        .await;
    let shared = app.db.engine() == Engine::Postgres;
    assert_eq!(app.services.limits.is_shared(), shared);
    let (b, _b_dir) = second_instance(&app, &vars).await;
    let (c, _c_dir) = second_instance(&app, &vars).await;
    let client = reqwest::Client::new();
    let bases = [app.address.clone(), b, c];
    // Four attempts from one address, spread over the three instances, use the allowance…
    let mut answers = Vec::new();
    for i in 0..4 {
        answers.push(login_status(&client, &bases[i % 3]).await);
    }
    assert_eq!(answers, [401, 401, 401, 401]);
    // …and the next is refused by every instance when they share it (on SQLite, served by one
    // instance in production, each instance counts its own).
    for base in &bases {
        let status = login_status(&client, base).await;
        if shared {
            assert_eq!(status, 429, "{base}");
        }
    }
}

#[tokio::test]
async fn shared_limits_allow_a_burst_then_one_attempt_per_interval() {
    let app = TestApp::spawn().await;
    if app.db.engine() != Engine::Postgres {
        return;
    }
    let verdicts = app
        .with_conn(|c| {
            use leman::models::rate_limit_counters::{attempt, sweep};
            let t0 = leman::db::now();
            let at = |ms: i64| t0 + chrono::Duration::milliseconds(ms);
            // 3 a minute: one every 20 s, 40 s of tolerance.
            let (interval, burst) = (20_000_000, 40_000_000);
            let mut v = Vec::new();
            for ms in [0, 0, 0, 0, 19_000, 20_000, 20_000] {
                v.push(attempt(c, "k", at(ms), interval, burst).unwrap().is_none());
            }
            // A refusal says until when: the next slot.
            let until = attempt(c, "k", at(21_000), interval, burst)
                .unwrap()
                .unwrap();
            assert_eq!(until, at(40_000));
            assert_eq!(sweep(c, at(79_000)).unwrap(), 0, "still counting");
            assert_eq!(sweep(c, at(81_000)).unwrap(), 1, "as good as new");
            v
        })
        .await;
    assert_eq!(verdicts, [true, true, true, false, false, true, false]);
}
