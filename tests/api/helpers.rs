//! `TestApp`: the real server on port 0 with a fresh database (a temp SQLite file, or a fresh
//! PostgreSQL database per test when `TEST_DATABASE_URL` is set) and a file mail transport whose
//! mails the test can read.

#![allow(dead_code)]

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use actix_web::dev::ServerHandle;
use diesel::prelude::*;
use leman::config::Config;
use leman::db::{DbConnection, Engine};
use leman::startup::{Application, Services};

/// A database made for one test and dropped after it.
pub struct TestDb {
    pub url: String,
    pg_admin: Option<(String, String)>,
}

impl TestDb {
    /// An empty database (no migrations run).
    pub fn new(dir: &std::path::Path) -> Self {
        Self::create(dir, None)
    }

    /// A database with every migration applied: on PostgreSQL a copy of a template migrated once
    /// per test process (`CREATE DATABASE … TEMPLATE`), which spares each test the ~1 s its
    /// migrations take there; SQLite migrates in ~0.1 s and starts empty.
    pub fn migrated(dir: &std::path::Path) -> Self {
        let template = std::env::var("TEST_DATABASE_URL")
            .ok()
            .filter(|u| !u.is_empty())
            .map(|base| pg_template(&base));
        Self::create(dir, template)
    }

    fn create(dir: &std::path::Path, template: Option<&str>) -> Self {
        match std::env::var("TEST_DATABASE_URL")
            .ok()
            .filter(|u| !u.is_empty())
        {
            Some(base) => {
                let name = format!("leman_test_{}", uuid::Uuid::now_v7().simple());
                let admin = admin_url(&base);
                let mut conn =
                    diesel::PgConnection::establish(&admin).expect("connect to TEST_DATABASE_URL");
                let from = template
                    .map(|t| format!(" TEMPLATE {t}"))
                    .unwrap_or_default();
                diesel::sql_query(format!("CREATE DATABASE {name}{from}"))
                    .execute(&mut conn)
                    .expect("create test database");
                // A commit waits ~4 ms for its fsync on this machine's disk and a test commits
                // hundreds of times; nothing here survives a crash of the server anyway.
                diesel::sql_query(format!(
                    "ALTER DATABASE {name} SET synchronous_commit = off"
                ))
                .execute(&mut conn)
                .expect("set synchronous_commit on the test database");
                let url = format!("{}/{name}?sslmode=disable", server_url(&base));
                Self {
                    url,
                    pg_admin: Some((admin, name)),
                }
            }
            None => Self {
                url: format!("sqlite://{}", dir.join("leman.db").display()),
                pg_admin: None,
            },
        }
    }

    pub fn engine(&self) -> Engine {
        if self.pg_admin.is_some() {
            Engine::Postgres
        } else {
            Engine::Sqlite
        }
    }

    /// Drops the PostgreSQL database now (ending its connections).
    pub fn drop_now(&self) {
        if let Some((admin, name)) = &self.pg_admin
            && let Ok(mut conn) = diesel::PgConnection::establish(admin)
        {
            {
                let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut conn);
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        self.drop_now();
    }
}

/// The name of this process's migrated template database, made on first use. Its name carries
/// the process id: templates left by processes that are gone (a run killed before its end; the
/// last run, whose template outlives it) are dropped here, a running process's never.
fn pg_template(base: &str) -> &'static str {
    static TEMPLATE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let admin = admin_url(base);
        let mut conn =
            diesel::PgConnection::establish(&admin).expect("connect to TEST_DATABASE_URL");
        #[derive(QueryableByName)]
        struct Datname {
            #[diesel(sql_type = diesel::sql_types::Text)]
            datname: String,
        }
        let stale: Vec<Datname> = diesel::sql_query(
            "SELECT datname FROM pg_database WHERE datname LIKE 'leman\\_tmpl\\_%'",
        )
        .load(&mut conn)
        .expect("list template databases");
        for Datname { datname } in stale {
            let pid = datname
                .split('_')
                .nth(2)
                .and_then(|p| p.parse::<u32>().ok());
            if pid.is_some_and(|pid| !std::path::Path::new(&format!("/proc/{pid}")).exists()) {
                let _ =
                    diesel::sql_query(format!("DROP DATABASE IF EXISTS {datname} WITH (FORCE)"))
                        .execute(&mut conn);
            }
        }
        let name = format!(
            "leman_tmpl_{}_{}",
            std::process::id(),
            uuid::Uuid::now_v7().simple()
        );
        diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .expect("create the template database");
        let url = format!("{}/{name}?sslmode=disable", server_url(base));
        let mut db = leman::db::DatabaseUrl::parse(&url)
            .and_then(|u| u.connect())
            .expect("connect to the template database");
        leman::db::run_migrations(&mut db).expect("migrate the template database");
        // CREATE DATABASE … TEMPLATE refuses a template anyone is connected to.
        drop(db);
        name
    })
}

/// `postgres://user@host:port` without a database name.
fn server_url(base: &str) -> String {
    let (scheme, rest) = base.split_once("://").unwrap();
    let authority = rest.split(['/', '?']).next().unwrap();
    format!("{scheme}://{authority}")
}

/// Loopback test databases connect without TLS: with it, libpq's OpenSSL clean-up at process
/// exit raced the pools' threads (a rare "double free" as the test binary ended).
fn admin_url(base: &str) -> String {
    format!("{}/postgres?sslmode=disable", server_url(base))
}

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub services: Services,
    pub db: TestDb,
    pub data_dir: tempfile::TempDir,
    handle: ServerHandle,
}

#[derive(Default)]
pub struct TestAppBuilder {
    vars: HashMap<String, String>,
}

impl TestAppBuilder {
    pub fn env(mut self, name: &str, value: &str) -> Self {
        self.vars.insert(name.to_string(), value.to_string());
        self
    }

    /// No job runner in the server: the test drives jobs itself.
    pub fn without_jobs(self) -> Self {
        self.env("LEMAN_JOBS", "false")
    }

    pub async fn spawn(self) -> TestApp {
        let data_dir = tempfile::tempdir().unwrap();
        let db = TestDb::migrated(data_dir.path());
        let config = test_config(data_dir.path(), &db.url, self.vars);
        leman::telemetry::init_for_tests(&config.log_filter);
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let services = Services::start(config).await.expect("services start");
        let app = Application::with_listener(services.clone(), listener).expect("server builds");
        let address = format!("http://127.0.0.1:{}", app.port());
        let handle = app.handle();
        tokio::spawn(app.run_until_stopped(None));
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        TestApp {
            address,
            client,
            services,
            db,
            data_dir,
            handle,
        }
    }
}

pub fn test_config(
    data_dir: &std::path::Path,
    database_url: &str,
    extra: HashMap<String, String>,
) -> Config {
    let mut vars: HashMap<String, String> = [
        ("LEMAN_BIND", "127.0.0.1:0"),
        ("LEMAN_DATA_DIR", data_dir.to_str().unwrap()),
        ("DATABASE_URL", database_url),
        ("LEMAN_DB_POOL_SIZE", "4"),
        ("LEMAN_HTTP_WORKERS", "1"),
        ("LEMAN_JOB_POLL_MS", "20"),
        ("LEMAN_JOB_BACKOFF_MS", "10"),
        ("LEMAN_JOB_MAX_ATTEMPTS", "3"),
        ("LEMAN_SHUTDOWN_TIMEOUT_SECS", "5"),
        ("LEMAN_APP_URL", "https://app.leman.test"),
        ("LEMAN_LOG", "warn"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    vars.extend(extra);
    Config::from_vars(vars).expect("test configuration is valid")
}

impl TestApp {
    pub fn builder() -> TestAppBuilder {
        TestAppBuilder::default()
    }

    pub async fn spawn() -> TestApp {
        Self::builder().spawn().await
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    pub fn conn(&self) -> leman::db::PooledConn {
        self.services.pool.get().unwrap()
    }

    /// Runs database work off the async executor.
    pub async fn with_conn<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut DbConnection) -> T + Send + 'static,
    ) -> T {
        let pool = self.services.pool.clone();
        tokio::task::spawn_blocking(move || f(&mut pool.get().unwrap()))
            .await
            .unwrap()
    }

    pub fn mail_dir(&self) -> PathBuf {
        self.data_dir.path().join("mail")
    }

    /// Every mail delivered so far, as raw RFC 5322 text.
    pub fn mails(&self) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(self.mail_dir()) else {
            return vec![];
        };
        entries
            .filter_map(|e| e.ok())
            .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
            .filter_map(|e| std::fs::read_to_string(e.path()).ok())
            .collect()
    }

    /// Waits (up to 10 s) for a mail to `to` and returns it.
    pub async fn wait_for_mail(&self, to: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(mail) = self
                .mails()
                .into_iter()
                .find(|m| m.contains(&format!("To: {to}")))
            {
                return mail;
            }
            assert!(Instant::now() < deadline, "no mail to {to} within 10 s");
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    pub async fn stop(&self) {
        self.handle.stop(true).await;
    }
}

/// Reads a problem+json response, checking its shape.
pub async fn problem(res: reqwest::Response, status: u16, code: &str) -> serde_json::Value {
    assert_eq!(res.status().as_u16(), status, "status");
    assert_eq!(
        res.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/problem+json"),
        "content type"
    );
    let request_id = res
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["status"], status, "{body}");
    assert_eq!(body["type"], format!("urn:leman:problem:{code}"));
    assert!(
        body["title"].is_string() && body["detail"].is_string(),
        "{body}"
    );
    assert_eq!(
        body["request_id"].as_str(),
        request_id.as_deref(),
        "the problem names its request"
    );
    body
}

/// A verified account made for a test, with its password.
#[derive(Clone, Debug)]
pub struct TestUser {
    pub id: String,
    pub email: String,
    pub password: String,
}

/// The tokens of a signed-in test user.
#[derive(Clone, Debug)]
pub struct TestSession {
    pub access_token: String,
    pub refresh_token: String,
    pub session_id: String,
}

pub const PASSWORD: &str = "correct horse battery staple";

impl TestApp {
    pub async fn post_json(&self, path: &str, body: serde_json::Value) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// A verified account, created as `leman users create --verified` does.
    pub async fn create_user(&self, email: &str) -> TestUser {
        self.create_user_in(email, "en").await
    }

    pub async fn create_user_in(&self, email: &str, language: &str) -> TestUser {
        let input = leman::services::accounts::SignUp {
            email: email.to_string(),
            password: PASSWORD.to_string(),
            first_name: "Zoë".to_string(),
            last_name: "Müller".to_string(),
            language: Some(language.to_string()),
            timezone: Some("Europe/Zurich".to_string()),
        };
        let user = leman::services::accounts::create_verified(&self.services.pool, input)
            .await
            .unwrap();
        TestUser {
            id: user.id,
            email: user.email,
            password: PASSWORD.to_string(),
        }
    }

    pub async fn login(&self, user: &TestUser) -> TestSession {
        let res = self
            .post_json(
                "/v1/auth/login",
                serde_json::json!({"email": user.email, "password": user.password}),
            )
            .await;
        assert_eq!(res.status(), 200, "login of {}", user.email);
        let body: serde_json::Value = res.json().await.unwrap();
        TestSession {
            access_token: body["access_token"]
                .as_str()
                .expect("tokens, not mfa_required")
                .to_string(),
            refresh_token: body["refresh_token"].as_str().unwrap().to_string(),
            session_id: body["session_id"].as_str().unwrap().to_string(),
        }
    }

    /// A verified, signed-in user in one call.
    pub async fn signed_in(&self, email: &str) -> (TestUser, TestSession) {
        let user = self.create_user(email).await;
        let session = self.login(&user).await;
        (user, session)
    }

    /// Activity actions recorded for a user (as actor or subject), oldest first. Read at rest:
    /// tests ask it of accounts the API cannot show (not yet verified, deleted, locked out) and
    /// before and after calls that must record nothing. With a live session, prefer
    /// `my_activity_details`.
    pub async fn activities_of(&self, user_id: &str) -> Vec<String> {
        use leman::db::schema::activities as a;
        let id = user_id.to_string();
        self.with_conn(move |c| {
            a::table
                .filter(a::actor_user_id.eq(&id).or(a::subject_user_id.eq(&id)))
                .order((a::created_at.asc(), a::id.asc()))
                .select(a::action)
                .load::<String>(c)
                .unwrap()
        })
        .await
    }

    /// The actions recorded in the organisation's chain, oldest first.
    pub async fn activities_of_org(&self, org_id: &str) -> Vec<String> {
        use leman::db::schema::activities as a;
        let id = org_id.to_string();
        self.with_conn(move |c| {
            a::table
                .filter(a::organization_id.eq(&id))
                .order((a::created_at.asc(), a::id.asc()))
                .select(a::action)
                .load::<String>(c)
                .unwrap()
        })
        .await
    }

    /// Waits (up to 10 s) for a mail to `to` whose text contains `needle`; returns its text.
    pub async fn wait_for_mail_containing(&self, to: &str, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let found = self
                .mails()
                .into_iter()
                .filter(|m| m.contains(&format!("To: {to}")))
                .map(|m| mail_text(&m))
                .find(|t| t.contains(needle));
            if let Some(text) = found {
                return text;
            }
            assert!(
                Instant::now() < deadline,
                "no mail to {to} containing {needle:?} within 10 s"
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Waits for the n-th mail to `to` and returns all of them so far.
    pub async fn wait_for_mails(&self, to: &str, n: usize) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let mails: Vec<String> = self
                .mails()
                .into_iter()
                .filter(|m| m.contains(&format!("To: {to}")))
                .collect();
            if mails.len() >= n {
                return mails;
            }
            assert!(
                Instant::now() < deadline,
                "fewer than {n} mails to {to} within 10 s"
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

/// The text part of a raw mail, decoded (lettre writes quoted-printable or base64).
pub fn mail_text(raw: &str) -> String {
    let msg = raw.replace("\r\n", "\n");
    let Some(start) = msg.find("Content-Type: text/plain") else {
        return msg;
    };
    let part = &msg[start..];
    let (headers, body) = part.split_once("\n\n").unwrap_or((part, ""));
    let body = body.split("\n--").next().unwrap_or(body);
    if headers.contains("base64") {
        use base64::Engine as _;
        let joined: String = body.lines().collect();
        String::from_utf8(
            base64::engine::general_purpose::STANDARD
                .decode(joined.trim())
                .unwrap_or_default(),
        )
        .unwrap_or_default()
    } else if headers.contains("quoted-printable") {
        decode_quoted_printable(body)
    } else {
        body.to_string()
    }
}

fn decode_quoted_printable(s: &str) -> String {
    let mut out = Vec::new();
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'=' if i + 1 < bytes.len() && bytes[i + 1] == b'\n' => i += 2,
            b'=' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => out.push(b),
                    Err(_) => out.extend_from_slice(&bytes[i..i + 3]),
                }
                i += 3;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The `token` of the first link to `path` in a mail's text.
pub fn link_token(text: &str, path: &str) -> String {
    let marker = format!("{path}?token=");
    let start = text
        .find(&marker)
        .unwrap_or_else(|| panic!("no {path} link in:\n{text}"))
        + marker.len();
    text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

/// Two-factor authentication of a test user: its TOTP secret and its recovery codes.
#[derive(Clone, Debug)]
pub struct TestTwoFactor {
    pub secret: String,
    pub recovery_codes: Vec<String>,
}

/// The code an authenticator app shows for `secret`, `offset` 30-second steps from now.
pub fn totp_code(secret: &str, offset: i64) -> String {
    let totp = totp_rs::Builder::new()
        .with_secret(totp_rs::Secret::try_from_base32(secret).unwrap())
        .build()
        .unwrap();
    let at = chrono::Utc::now().timestamp() + offset * 30;
    totp.generate(at as u64).to_string()
}

impl TestApp {
    /// Turns 2FA on for the session's user: enrolment, then confirmation with the current code.
    pub async fn enable_two_factor(&self, session: &TestSession) -> TestTwoFactor {
        let res = send(
            self,
            reqwest::Method::POST,
            "/v1/me/two-factor/totp",
            &session,
            None,
        )
        .await;
        assert_eq!(res.status(), 200, "start enrolment");
        let body: serde_json::Value = res.json().await.unwrap();
        let secret = body["secret"].as_str().unwrap().to_string();
        let res = send(
            self,
            reqwest::Method::POST,
            "/v1/me/two-factor/totp/confirm",
            &session,
            Some(serde_json::json!({"code": totp_code(&secret, 0)})),
        )
        .await;
        assert_eq!(res.status(), 200, "confirm enrolment");
        let body: serde_json::Value = res.json().await.unwrap();
        let recovery_codes = body["recovery_codes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap().to_string())
            .collect();
        TestTwoFactor {
            secret,
            recovery_codes,
        }
    }

    /// As if the last code had been used a minute ago: the current step's code is usable again.
    pub async fn forget_used_step(&self, user_id: &str) {
        use leman::db::schema::users;
        let id = user_id.to_string();
        let step = chrono::Utc::now().timestamp() / 30 - 2;
        self.with_conn(move |c| {
            diesel::update(users::table.find(id))
                .set(users::totp_last_step.eq(Some(step)))
                .execute(c)
                .unwrap();
        })
        .await;
    }

    /// A code that the server accepts now (see `forget_used_step`).
    pub async fn next_totp_code(&self, user_id: &str, two_factor: &TestTwoFactor) -> String {
        self.forget_used_step(user_id).await;
        totp_code(&two_factor.secret, 0)
    }

    /// The password step of a login with 2FA on: the `mfa_token`.
    pub async fn mfa_token(&self, user: &TestUser) -> String {
        let res = self
            .post_json(
                "/v1/auth/login",
                serde_json::json!({"email": user.email, "password": user.password}),
            )
            .await;
        assert_eq!(res.status(), 200, "login of {}", user.email);
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(body["mfa_required"], true, "{body}");
        body["mfa_token"].as_str().unwrap().to_string()
    }

    /// Signs in a user with 2FA on: password, then a fresh code.
    pub async fn login_with_two_factor(
        &self,
        user: &TestUser,
        two_factor: &TestTwoFactor,
    ) -> TestSession {
        let mfa_token = self.mfa_token(user).await;
        let code = self.next_totp_code(&user.id, two_factor).await;
        let res = self
            .post_json(
                "/v1/auth/login/mfa",
                serde_json::json!({"mfa_token": mfa_token, "code": code}),
            )
            .await;
        assert_eq!(res.status(), 200, "second login step of {}", user.email);
        let body: serde_json::Value = res.json().await.unwrap();
        TestSession {
            access_token: body["access_token"].as_str().unwrap().to_string(),
            refresh_token: body["refresh_token"].as_str().unwrap().to_string(),
            session_id: body["session_id"].as_str().unwrap().to_string(),
        }
    }

    /// A personal token (`lmn_…`) of the user with `account:read` and `account:write`, stored
    /// as `POST /v1/me/tokens` stores it (made directly, so no recent authentication is needed).
    pub async fn personal_token(&self, user_id: &str) -> String {
        self.token_of_kind(user_id, "personal", &["account:read", "account:write"])
            .await
    }

    /// Sets the user's lock threshold directly (the API allows 3–100; tests want small ones).
    pub async fn set_lock_threshold(&self, user_id: &str, threshold: i32) {
        use leman::db::schema::users;
        let id = user_id.to_string();
        self.with_conn(move |c| {
            diesel::update(users::table.find(id))
                .set(users::lock_after_failed_logins.eq(threshold))
                .execute(c)
                .unwrap()
        })
        .await;
    }

    /// Makes the session's last authentication 6 minutes old: sensitive actions need a new one.
    pub async fn make_session_not_recent(&self, session: &TestSession) {
        use leman::db::schema::sessions;
        let sid = session.session_id.clone();
        self.with_conn(move |c| {
            diesel::update(sessions::table.find(sid))
                .set(sessions::authenticated_at.eq(leman::db::now() - chrono::Duration::minutes(6)))
                .execute(c)
                .unwrap();
        })
        .await;
    }
}

/// Organisations, for tests: made through the API, with members placed directly (the way an
/// accepted invitation places them) so a fixture costs one request.
impl TestApp {
    /// A new organisation of `session`'s user (its legal representative); returns its id.
    pub async fn create_org(&self, session: &TestSession, name: &str) -> String {
        let res = send(self, reqwest::Method::POST, "/v1/orgs", &session, Some(serde_json::json!({
                "name": name, "country": "CH", "currency": "CHF",
                "billing_address": {"line1": "Rue du Rhône 12", "postal_code": "1204", "city": "Genève"}
            }))).await;
        assert_eq!(res.status(), 201, "create org");
        let body: serde_json::Value = res.json().await.unwrap();
        body["id"].as_str().unwrap().to_string()
    }

    /// Makes `user_id` a member of `org_id` with `role` and `permissions`.
    pub async fn add_member(&self, org_id: &str, user_id: &str, role: &str, permissions: &[&str]) {
        let now = leman::db::now();
        let row = leman::models::memberships::Membership {
            organization_id: org_id.to_string(),
            user_id: user_id.to_string(),
            role: leman::domain::orgs::Role::parse(role).expect("a role"),
            permissions: leman::domain::orgs::Permissions::new(
                &permissions
                    .iter()
                    .map(|p| leman::domain::orgs::Permission::parse(p).expect("a permission"))
                    .collect::<Vec<_>>(),
            ),
            created_at: now,
            updated_at: now,
        };
        self.with_conn(move |c| {
            leman::models::memberships::insert(c, &row).unwrap();
            leman::models::organizations::refresh_two_factor_required(c, &[row.user_id]).unwrap();
        })
        .await;
    }

    /// A pending invitation of `org_id` to `email` as a plain member; returns its id.
    pub async fn pending_invitation(&self, org_id: &str, invited_by: &str, email: &str) -> String {
        let now = leman::db::now();
        let row = leman::models::invitations::Invitation {
            id: leman::db::new_id(leman::services::invitations::ID_PREFIX),
            organization_id: org_id.to_string(),
            email: email.to_string(),
            role: leman::domain::orgs::Role::Member,
            permissions: Default::default(),
            token_hash: leman::auth::secrets::hash(&leman::auth::secrets::new_secret("")),
            invited_by: invited_by.to_string(),
            expires_at: now + chrono::Duration::days(7),
            accepted_at: None,
            accepted_by: None,
            revoked_at: None,
            created_at: now,
        };
        let id = row.id.clone();
        self.with_conn(move |c| leman::models::invitations::insert(c, &row).unwrap())
            .await;
        id
    }

    /// A token of the user of `kind` (`personal` or `application`) with `scopes`, stored as
    /// `POST /v1/me/tokens` stores it.
    pub async fn token_of_kind(&self, user_id: &str, kind: &str, scopes: &[&str]) -> String {
        let secret = leman::auth::secrets::new_secret("lmn_");
        let row = leman::models::api_tokens::ApiToken {
            id: leman::db::new_id("tok"),
            user_id: user_id.to_string(),
            name: "app".into(),
            kind: kind.into(),
            scopes: serde_json::to_string(scopes).unwrap(),
            token_hash: leman::auth::secrets::hash(&secret),
            prefix: secret[..8].to_string(),
            expires_at: None,
            last_used_at: None,
            created_at: leman::db::now(),
            revoked_at: None,
        };
        self.with_conn(move |c| {
            diesel::insert_into(leman::db::schema::api_tokens::table)
                .values(row)
                .execute(c)
                .unwrap()
        })
        .await;
        secret
    }
}

/// The committed OpenAPI document, with the parameters and answers it shares in `components`
/// written out in each operation (as a reader of one operation sees them).
pub fn spec() -> serde_json::Value {
    let mut spec: serde_json::Value =
        serde_json::from_str(include_str!("../../openapi/openapi.json")).unwrap();
    inline_shared(&mut spec);
    spec
}

/// Replaces each `$ref` to `components.parameters` or `components.responses` of the
/// operations by what it refers to.
pub fn inline_shared(spec: &mut serde_json::Value) {
    let components = spec["components"].clone();
    let resolve = |v: &mut serde_json::Value| {
        let target = v["$ref"].as_str().and_then(|r| {
            let r = r.strip_prefix("#/components/")?;
            let (kind, name) = r.split_once('/')?;
            Some(components[kind][name].clone())
        });
        if let Some(target) = target {
            *v = target;
        }
    };
    for item in spec["paths"].as_object_mut().unwrap().values_mut() {
        for op in item.as_object_mut().unwrap().values_mut() {
            if let Some(params) = op.get_mut("parameters").and_then(|p| p.as_array_mut()) {
                params.iter_mut().for_each(&resolve);
            }
            if let Some(responses) = op.get_mut("responses").and_then(|r| r.as_object_mut()) {
                responses.values_mut().for_each(&resolve);
            }
        }
    }
}

/// The example of an operation's JSON request body, if it takes one.
pub fn example_body(spec: &serde_json::Value, op: &serde_json::Value) -> Option<serde_json::Value> {
    let schema = &op["requestBody"]["content"]["application/json"]["schema"];
    if schema.is_null() {
        return None;
    }
    let schema = match schema["$ref"].as_str() {
        Some(r) => &spec["components"]["schemas"][r.rsplit('/').next().unwrap()],
        None => schema,
    };
    Some(schema["example"].clone()).filter(|e| !e.is_null())
}

/// Every operation of the spec: (method, path, operation).
pub fn operations(spec: &serde_json::Value) -> Vec<(String, String, serde_json::Value)> {
    let mut ops = Vec::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            ops.push((method.clone(), path.clone(), op.clone()));
        }
    }
    ops
}

/// The secret tests sign payment webhooks with (set it with `TestApp::builder().env(…)`).
pub const WEBHOOK_SECRET: &str = "whsec_test_secret";

/// Billing, for tests: through the API, as a customer would.
impl TestApp {
    /// Saves a payment method (`{"type": "card", "token": "tok_visa"}`…); returns its id.
    pub async fn add_payment_method(
        &self,
        s: impl Bearer,
        org: &str,
        body: serde_json::Value,
    ) -> String {
        let res = send(
            self,
            reqwest::Method::POST,
            &format!("/v1/orgs/{org}/payment-methods"),
            &s,
            Some(body.clone()),
        )
        .await;
        assert_eq!(res.status(), 201, "add payment method");
        let v: serde_json::Value = res.json().await.unwrap();
        v["id"].as_str().unwrap().to_string()
    }

    /// A new organisation with a Visa card that topped its prepaid account up by `amount` (CHF);
    /// returns (organisation id, card id).
    pub async fn funded_org(&self, s: &TestSession, name: &str, amount: &str) -> (String, String) {
        self.an_org(s)
            .named(name)
            .funded(amount)
            .await
            .id_and_card()
    }

    /// Orders `items` (no payment); returns the order.
    pub async fn order(
        &self,
        s: &TestSession,
        org: &str,
        items: serde_json::Value,
    ) -> serde_json::Value {
        let res = send(
            self,
            reqwest::Method::POST,
            &format!("/v1/orgs/{org}/orders"),
            &s,
            Some(serde_json::json!({ "items": items })),
        )
        .await;
        assert_eq!(res.status(), 201, "order");
        res.json().await.unwrap()
    }

    /// Waits (up to 10 s) until the product leaves `provisioning` (a domain: the
    /// `provision_domain` job heard the registry); returns the product as `GET` shows it.
    pub async fn wait_until_provisioned(
        &self,
        who: impl Bearer,
        org: &str,
        product_id: &str,
    ) -> serde_json::Value {
        let path = format!("/v1/orgs/{org}/products/{product_id}");
        for _ in 0..500 {
            let product = get_json(self, &who, &path).await;
            if product["status"] != "provisioning" && product["status"] != "pending_payment" {
                return product;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        panic!("product {product_id} still provisioning");
    }

    /// Delivers a payment provider event, signed with `WEBHOOK_SECRET` at `timestamp`.
    pub async fn webhook(&self, event: serde_json::Value, timestamp: i64) -> reqwest::Response {
        let body = serde_json::to_vec(&event).unwrap();
        let signature = leman::services::webhooks::sign(WEBHOOK_SECRET, timestamp, &body);
        self.client
            .post(self.url("/v1/payment-provider/webhooks"))
            .header("Content-Type", "application/json")
            .header("Leman-Signature", format!("t={timestamp},v1={signature}"))
            .body(body)
            .send()
            .await
            .unwrap()
    }
}

impl TestApp {
    /// Runs the `leman` binary against this app's database and data directory, with `env` on
    /// top (settings the command must share with the app), jobs off.
    pub fn cli(&self, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
        std::process::Command::new(env!("CARGO_BIN_EXE_leman"))
            .args(args)
            .env("DATABASE_URL", &self.db.url)
            .env("LEMAN_DATA_DIR", self.data_dir.path())
            .env("LEMAN_JOBS", "false")
            .envs(env.iter().copied())
            .output()
            .unwrap()
    }
}

/// The sandbox provider's reference of a payment.
pub fn sandbox_reference(payment_id: &str) -> String {
    format!("sbx_{}", payment_id.trim_start_matches("pay_"))
}

/// Who a request is sent as: a signed-in session or a bare bearer token (`lmn_…`, a stolen or
/// expired access token…).
pub trait Bearer {
    fn bearer(&self) -> &str;
}

impl Bearer for TestSession {
    fn bearer(&self) -> &str {
        &self.access_token
    }
}

impl Bearer for str {
    fn bearer(&self) -> &str {
        self
    }
}

impl Bearer for String {
    fn bearer(&self) -> &str {
        self
    }
}

impl<T: Bearer + ?Sized> Bearer for &T {
    fn bearer(&self) -> &str {
        (**self).bearer()
    }
}

/// The one way tests send an authenticated request: `send(&app, Method::POST, path, &session,
/// Some(json!(…)))`, then `ok(res, 201)` or `problem(res, 403, "…")` on the answer.
pub async fn send(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    as_who: impl Bearer,
    body: Option<serde_json::Value>,
) -> reqwest::Response {
    send_with(app, method, path, as_who, body, &[]).await
}

/// `send` with extra headers (`Idempotency-Key`, `User-Agent`…).
pub async fn send_with(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    as_who: impl Bearer,
    body: Option<serde_json::Value>,
    headers: &[(&str, &str)],
) -> reqwest::Response {
    let mut req = app
        .client
        .request(method, app.url(path))
        .bearer_auth(as_who.bearer());
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    req.send().await.unwrap()
}

/// Expects `status`; returns the JSON body (null when there is none).
pub async fn ok(res: reqwest::Response, status: u16) -> serde_json::Value {
    let got = res.status().as_u16();
    let text = res.text().await.unwrap();
    assert_eq!(got, status, "{text}");
    serde_json::from_str(&text).unwrap_or(serde_json::Value::Null)
}

/// `GET path` as `who`, expecting 200; returns the body.
pub async fn get_json(app: &TestApp, who: impl Bearer, path: &str) -> serde_json::Value {
    ok(send(app, reqwest::Method::GET, path, who, None).await, 200).await
}

/// The status `GET /v1/me` answers `who` (200 while the session or token still works).
pub async fn me_status(app: &TestApp, who: impl Bearer) -> u16 {
    send(app, reqwest::Method::GET, "/v1/me", who, None)
        .await
        .status()
        .as_u16()
}

/// The status of a password login (200 whether or not a second factor follows).
pub async fn login_status(app: &TestApp, email: &str, password: &str) -> u16 {
    app.post_json(
        "/v1/auth/login",
        serde_json::json!({"email": email, "password": password}),
    )
    .await
    .status()
    .as_u16()
}

/// An app for billing: provider webhooks signed with `WEBHOOK_SECRET`, and a login limit that
/// scenarios with several users do not hit.
pub async fn billing_app() -> TestApp {
    TestApp::builder()
        .env("LEMAN_PAYMENT_WEBHOOK_SECRETS", WEBHOOK_SECRET)
        .env("LEMAN_AUTH_RATE_PER_IP", "1000")
        .spawn()
        .await
}

/// A payment body: pay with the saved method `id`.
pub fn card(id: &str) -> serde_json::Value {
    serde_json::json!({"method": "payment_method", "payment_method_id": id})
}

/// `GET path` and one string field of the answer.
pub async fn field_of(app: &TestApp, s: &TestSession, path: &str, field: &str) -> String {
    let v = get_json(app, s, path).await;
    v[field].as_str().unwrap().to_string()
}

/// The statuses of a page of invoices.
pub async fn statuses(app: &TestApp, s: &TestSession, path: &str) -> Vec<String> {
    let v = get_json(app, s, path).await;
    v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["status"].as_str().unwrap().to_string())
        .collect()
}

/// The codes of what blocks deleting the organisation.
pub async fn unmet(app: &TestApp, s: &TestSession, org: &str) -> Vec<String> {
    let v = get_json(app, s, &format!("/v1/orgs/{org}/deletion-check")).await;
    v["unmet"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["code"].as_str().unwrap().to_string())
        .collect()
}

/// An organisation fixture, described then made with `.await`:
/// `app.an_org(&owner).with_member(&user, "member", &["users"]).funded("50.00").await`.
/// The owner's session creates it (legal representative); everything else goes through the
/// API as a customer would, except members, placed as an accepted invitation places them.
pub struct OrgFixture<'a> {
    app: &'a TestApp,
    owner: &'a TestSession,
    name: String,
    members: Vec<(String, String, Vec<String>)>,
    card: bool,
    top_up: Option<String>,
    orders: Vec<(serde_json::Value, bool)>,
}

/// What `OrgFixture` made.
#[derive(Clone, Debug)]
pub struct TestOrg {
    pub id: String,
    /// The saved Visa card, when asked for (`with_card`, `funded`, `with_product`).
    pub card: Option<String>,
    /// The orders placed, in the order asked for (as `POST /orders` answered them).
    pub orders: Vec<serde_json::Value>,
}

impl TestOrg {
    /// The saved Visa card's id.
    pub fn card(&self) -> &str {
        self.card.as_deref().expect("the fixture has a card")
    }

    /// (organisation id, card id), for scenarios that use both as plain strings.
    pub fn id_and_card(self) -> (String, String) {
        let card = self.card().to_string();
        (self.id, card)
    }

    /// The invoice id of the n-th order.
    pub fn invoice(&self, n: usize) -> &str {
        self.orders[n]["invoice_id"].as_str().unwrap()
    }
}

impl TestApp {
    /// An organisation of `owner`'s user named "Acme" (see `OrgFixture`).
    pub fn an_org<'a>(&'a self, owner: &'a TestSession) -> OrgFixture<'a> {
        OrgFixture {
            app: self,
            owner,
            name: "Acme".into(),
            members: vec![],
            card: false,
            top_up: None,
            orders: vec![],
        }
    }
}

impl<'a> OrgFixture<'a> {
    pub fn named(mut self, name: &str) -> Self {
        self.name = name.to_string();
        self
    }

    /// `user` joins with `role` and `permissions`.
    pub fn with_member(mut self, user: &TestUser, role: &str, permissions: &[&str]) -> Self {
        let permissions = permissions.iter().map(|p| p.to_string()).collect();
        self.members
            .push((user.id.clone(), role.to_string(), permissions));
        self
    }

    /// A saved Visa card (`tok_visa`).
    pub fn with_card(mut self) -> Self {
        self.card = true;
        self
    }

    /// The prepaid account topped up by `amount` (in the organisation's CHF) with the card.
    pub fn funded(mut self, amount: &str) -> Self {
        self.card = true;
        self.top_up = Some(amount.to_string());
        self
    }

    /// An order of `items` left unpaid: its invoice is open.
    pub fn with_open_invoice(mut self, items: serde_json::Value) -> Self {
        self.orders.push((items, false));
        self
    }

    /// An order of `items` paid by card: its products are provisioned.
    pub fn with_product(mut self, items: serde_json::Value) -> Self {
        self.card = true;
        self.orders.push((items, true));
        self
    }

    async fn make(self) -> TestOrg {
        let (app, s) = (self.app, self.owner);
        let id = app.create_org(s, &self.name).await;
        for (user, role, permissions) in &self.members {
            let permissions: Vec<&str> = permissions.iter().map(String::as_str).collect();
            app.add_member(&id, user, role, &permissions).await;
        }
        let card = match self.card {
            true => Some(
                app.add_payment_method(
                    s,
                    &id,
                    serde_json::json!({"type": "card", "token": "tok_visa"}),
                )
                .await,
            ),
            false => None,
        };
        if let Some(amount) = &self.top_up {
            let body = serde_json::json!({"amount": {"amount": amount, "currency": "CHF"},
                "payment_method_id": card.as_deref().unwrap()});
            let path = format!("/v1/orgs/{id}/prepaid-account/top-ups");
            ok(
                send(app, reqwest::Method::POST, &path, s, Some(body)).await,
                201,
            )
            .await;
        }
        let mut orders = vec![];
        for (items, paid) in self.orders {
            let order = app.order(s, &id, items).await;
            if paid {
                let order_id = order["id"].as_str().unwrap();
                let path = format!("/v1/orgs/{id}/orders/{order_id}/payments");
                let body = Some(self::card(card.as_deref().unwrap()));
                ok(send(app, reqwest::Method::POST, &path, s, body).await, 201).await;
                for p in order["products"].as_array().unwrap() {
                    app.wait_until_provisioned(s, &id, p["id"].as_str().unwrap())
                        .await;
                }
            }
            orders.push(order);
        }
        TestOrg { id, card, orders }
    }
}

impl<'a> std::future::IntoFuture for OrgFixture<'a> {
    type Output = TestOrg;
    type IntoFuture = std::pin::Pin<Box<dyn std::future::Future<Output = TestOrg> + Send + 'a>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.make())
    }
}

/// The details of `who`'s own activity records with `action`, oldest first, as
/// `GET /v1/me/activities` shows them.
pub async fn my_activity_details(
    app: &TestApp,
    who: impl Bearer,
    action: &str,
) -> Vec<serde_json::Value> {
    let page = get_json(
        app,
        who,
        &format!("/v1/me/activities?action={action}&limit=100"),
    )
    .await;
    assert!(page["next_cursor"].is_null(), "one page holds them all");
    let mut details: Vec<serde_json::Value> = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["details"].clone())
        .collect();
    details.reverse();
    details
}

/// The password tests change to.
pub const NEW_PASSWORD: &str = "tangerine orbit quietly sailing";

/// Creates a token named `name` of `kind` with `scopes` through the API; returns (id, secret).
pub async fn create_named_token(
    app: &TestApp,
    session: &TestSession,
    name: &str,
    kind: &str,
    scopes: &[&str],
) -> (String, String) {
    let body = serde_json::json!({"name": name, "kind": kind, "scopes": scopes});
    let body = ok(
        send(
            app,
            reqwest::Method::POST,
            "/v1/me/tokens",
            session,
            Some(body),
        )
        .await,
        201,
    )
    .await;
    (
        body["id"].as_str().unwrap().to_string(),
        body["secret"].as_str().unwrap().to_string(),
    )
}

/// How many times `action` occurs in a list of actions (see `activities_of`).
pub fn count(actions: &[String], action: &str) -> usize {
    actions.iter().filter(|a| *a == action).count()
}

/// Every mail to `to` so far, as text.
pub fn texts_to(app: &TestApp, to: &str) -> Vec<String> {
    app.mails()
        .iter()
        .filter(|m| m.contains(&format!("To: {to}")))
        .map(|m| mail_text(m))
        .collect()
}

pub async fn confirm_recovery(app: &TestApp, session: &TestSession, address: &str) {
    let res = send(
        app,
        reqwest::Method::PUT,
        "/v1/me/recovery-email",
        &session,
        Some(serde_json::json!({"email": address})),
    )
    .await;
    assert_eq!(res.status(), 202);
    let text = app
        .wait_for_mail_containing(address, "/confirm-recovery-email?token=")
        .await;
    let token = link_token(&text, "/confirm-recovery-email");
    let res = app
        .post_json(
            "/v1/me/recovery-email/confirm",
            serde_json::json!({"token": token}),
        )
        .await;
    assert_eq!(res.status(), 204);
}

/// Creates a token through the API and returns (id, secret).
pub async fn create_token(
    app: &TestApp,
    session: &TestSession,
    scopes: &[&str],
) -> (String, String) {
    create_named_token(app, session, "Deploy script", "personal", scopes).await
}

/// The prepaid ledger's sum and the stored balance, in cents: read at rest, they must agree.
pub async fn ledger_sum_and_balance(app: &TestApp, org: &str) -> (i64, i64) {
    let org = org.to_string();
    app.with_conn(move |c| {
        (
            leman::models::prepaid::ledger_sum(c, &org).unwrap(),
            leman::models::prepaid::balance(c, &org).unwrap(),
        )
    })
    .await
}

/// A domain name under `.tld` no other call of this test binary gives (`acme-7.ch`): orders of
/// `domain-*` offers name their domain, and a live name cannot be ordered twice. Never a
/// sandbox's magic prefix (`taken-`, `race-`, `held-`).
pub fn fresh_domain(tld: &str) -> String {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("acme-{n}.{tld}")
}
