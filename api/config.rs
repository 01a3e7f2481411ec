//! Configuration from the environment (`LEMAN_*`, `DATABASE_URL`), optionally from a TOML file
//! named by `LEMAN_CONFIG` (keys are the setting names in lower case without the `LEMAN_` prefix:
//! `bind = "0.0.0.0:8080"`). The environment wins over the file, the file over the defaults.
//! `SETTINGS` is the one list of settings: `leman --help` and the README print it.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::db::DatabaseUrl;

/// (environment variable, default, description)
pub const SETTINGS: &[(&str, &str, &str)] = &[
    (
        "LEMAN_CONFIG",
        "",
        "Optional TOML file with any of these settings (lower case, no LEMAN_ prefix)",
    ),
    (
        "LEMAN_BIND",
        "127.0.0.1:8080",
        "Address the HTTP server listens on",
    ),
    (
        "LEMAN_DATA_DIR",
        "./data",
        "Directory for the SQLite database and the mail files",
    ),
    (
        "DATABASE_URL",
        "sqlite://<LEMAN_DATA_DIR>/leman.db",
        "sqlite://path or postgres://user@host/db",
    ),
    (
        "LEMAN_DB_POOL_SIZE",
        "10",
        "Database connections per process (1-200)",
    ),
    (
        "LEMAN_APP_URL",
        "http://127.0.0.1:8080",
        "Front end base URL; links in mails point under it",
    ),
    (
        "LEMAN_PUBLIC_API_URL",
        "http://127.0.0.1:8080",
        "This API's public base URL; download links in mails (exports) point under it",
    ),
    (
        "LEMAN_JWT_KEYS",
        "",
        "Token signing keys `kid:base64secret` separated by commas, first one signs; unset: generated once and kept in the database",
    ),
    (
        "LEMAN_CORS_ORIGINS",
        "",
        "Origins allowed by CORS, separated by commas (empty: none)",
    ),
    (
        "LEMAN_TRUST_PROXY",
        "false",
        "Take the client IP from X-Forwarded-For / Forwarded (true only behind a proxy that sets them)",
    ),
    (
        "LEMAN_METRICS_ALLOW",
        "127.0.0.1/8,::1/128",
        "Client addresses (IPs or CIDRs, comma-separated) that may read /metrics without a token; empty: none",
    ),
    (
        "LEMAN_METRICS_TOKEN",
        "",
        "Bearer token that opens /metrics from any address (at least 32 characters); unset: only LEMAN_METRICS_ALLOW",
    ),
    ("LEMAN_LOG_FORMAT", "pretty", "Log format: pretty or json"),
    (
        "LEMAN_LOG",
        "info",
        "Log filter (tracing env-filter syntax)",
    ),
    (
        "LEMAN_HTTP_WORKERS",
        "0",
        "HTTP worker threads (0: one per core)",
    ),
    (
        "LEMAN_SHUTDOWN_TIMEOUT_SECS",
        "30",
        "Seconds in-flight requests get to finish on SIGTERM/SIGINT",
    ),
    (
        "LEMAN_SMTP_URL",
        "",
        "smtp://user:pass@host:587 (STARTTLS) or smtps://…:465; unset: mails are written as .eml files under <LEMAN_DATA_DIR>/mail",
    ),
    (
        "LEMAN_MAIL_FROM",
        "Leman <no-reply@leman.localhost>",
        "Sender of every mail",
    ),
    (
        "LEMAN_SESSION_IDLE_MINUTES",
        "30",
        "A session unused this long cannot be refreshed (5-1440)",
    ),
    (
        "LEMAN_SESSION_ABSOLUTE_HOURS",
        "12",
        "A session ends this long after its login, used or not (1-720)",
    ),
    (
        "LEMAN_AUTH_RATE_PER_IP",
        "30",
        "Requests per minute one IP may make to the sign-in routes (/v1/auth, /v1/users)",
    ),
    (
        "LEMAN_AUTH_RATE_PER_ACCOUNT",
        "10",
        "Login attempts per minute on one account (password confirmations count too)",
    ),
    (
        "LEMAN_ORG_RETENTION_YEARS",
        "10",
        "How long a deleted organisation's invoices and activity stay archived, read-only (1-50)",
    ),
    (
        "LEMAN_CATALOG_FILE",
        "",
        "Offers file replacing the built-in catalogue (catalog/offers.json format); checked at start",
    ),
    (
        "LEMAN_PAYMENT_GATEWAY",
        "sandbox",
        "Payment provider adapter: `sandbox` (built in, answers from its documented test tokens)",
    ),
    (
        "LEMAN_REGISTRY",
        "sandbox",
        "Domain registry adapter: `sandbox` (built in, keeps its state in the database; see docs/domains.md)",
    ),
    (
        "LEMAN_INVOICE_ISSUER",
        "LEMAN",
        "Issuer code whose invoices are numbered together, yearly and gapless (YYYY-NNNNNN)",
    ),
    (
        "LEMAN_ISSUER_NAME",
        "Leman SA",
        "The issuer's name on invoices, credit notes and pro formas, and the QR-bill's creditor (1-70 characters)",
    ),
    (
        "LEMAN_ISSUER_STREET",
        "Quai du Mont-Blanc",
        "The issuer's street, without the building number (70 characters at most)",
    ),
    (
        "LEMAN_ISSUER_BUILDING_NUMBER",
        "5",
        "The issuer's building number (16 characters at most; may be empty)",
    ),
    (
        "LEMAN_ISSUER_POSTAL_CODE",
        "1201",
        "The issuer's postal code (1-16 characters)",
    ),
    (
        "LEMAN_ISSUER_TOWN",
        "Genève",
        "The issuer's town (1-35 characters)",
    ),
    (
        "LEMAN_ISSUER_COUNTRY",
        "CH",
        "The issuer's country, ISO 3166-1 alpha-2",
    ),
    (
        "LEMAN_ISSUER_VAT_NUMBER",
        "CHE-123.456.789 TVA",
        "The issuer's VAT number printed on the documents (may be empty)",
    ),
    (
        "LEMAN_ISSUER_IBAN",
        "CH93 0076 2011 6238 5295 7",
        "The account customers pay into: EPC QR codes of EUR documents, and CHF QR-bills with a creditor reference (SCOR) when no QR-IBAN is set; Swiss or Liechtenstein, not a QR-IBAN",
    ),
    (
        "LEMAN_ISSUER_QR_IBAN",
        "CH44 3199 9123 0008 8901 2",
        "QR-IBAN (institution id 30000-31999) of CHF QR-bills, with a QR reference (QRR); empty: CHF QR-bills use LEMAN_ISSUER_IBAN with a creditor reference",
    ),
    (
        "LEMAN_ISSUER_BIC",
        "",
        "The issuer's BIC, written into EPC QR codes (optional)",
    ),
    (
        "LEMAN_ORDER_EXPIRY_DAYS",
        "30",
        "Days an unpaid order stays open before it and its invoice are cancelled (1-365)",
    ),
    (
        "LEMAN_PAYMENT_PENDING_DAYS",
        "7",
        "Days a payment may wait for the provider's confirmation before it is given up (1-90); money confirmed later goes to the prepaid account",
    ),
    (
        "LEMAN_PREPAID_TOP_UP_MIN",
        "10.00",
        "Smallest prepaid top-up, in the organisation's currency",
    ),
    (
        "LEMAN_PREPAID_TOP_UP_MAX",
        "10000.00",
        "Largest prepaid top-up, in the organisation's currency",
    ),
    (
        "LEMAN_PREPAID_CEILING",
        "50000.00",
        "Most money a prepaid account may hold",
    ),
    (
        "LEMAN_PAYMENT_WEBHOOK_SECRETS",
        "",
        "Secrets the payment provider signs its webhooks with, comma-separated (several during a rotation); empty: every webhook is refused",
    ),
    (
        "LEMAN_JOBS",
        "true",
        "Run the background job runner inside `serve` (false: run `leman worker` separately)",
    ),
    (
        "LEMAN_JOB_CONCURRENCY",
        "2",
        "Jobs run at once per process (1-64)",
    ),
    (
        "LEMAN_JOB_POLL_MS",
        "1000",
        "How often an idle runner looks for due jobs, in milliseconds",
    ),
    (
        "LEMAN_JOB_MAX_ATTEMPTS",
        "8",
        "Tries before a job is marked dead",
    ),
    (
        "LEMAN_JOB_BACKOFF_MS",
        "5000",
        "First retry delay; doubles at each try (capped at 1 hour)",
    ),
    (
        "LEMAN_WEBHOOKS_ALLOW_LOOPBACK",
        "false",
        "Development only: let webhook endpoints be plain-http loopback addresses (127.0.0.1, ::1, localhost); nothing else private is ever allowed",
    ),
];

#[derive(Debug, Clone)]
pub struct Config {
    pub bind: SocketAddr,
    pub data_dir: PathBuf,
    pub database_url: DatabaseUrl,
    pub db_pool_size: u32,
    pub app_url: String,
    pub public_api_url: String,
    pub jwt_keys: Option<Vec<(String, Vec<u8>)>>,
    pub cors_origins: Vec<String>,
    pub trust_proxy: bool,
    /// Who may read /metrics without the token: (network, prefix length).
    pub metrics_allow: Vec<(std::net::IpAddr, u8)>,
    pub metrics_token: Option<String>,
    pub log_json: bool,
    pub log_filter: String,
    pub http_workers: usize,
    pub shutdown_timeout: Duration,
    pub smtp_url: Option<String>,
    pub mail_from: lettre::message::Mailbox,
    pub session_idle: chrono::Duration,
    pub session_absolute: chrono::Duration,
    pub auth_rate_per_ip: u32,
    pub auth_rate_per_account: u32,
    pub org_retention_years: u32,
    pub catalog_file: Option<PathBuf>,
    pub invoice_issuer: String,
    /// Who issues the documents, and the accounts they are paid into.
    pub issuer: IssuerSettings,
    /// The payment provider adapter, chosen at start.
    pub payment_gateway: crate::gateway::GatewayKind,
    /// The domain registry adapter, chosen at start.
    pub registry: crate::registry::RegistryKind,
    pub order_expiry_days: i64,
    pub payment_pending_days: i64,
    pub prepaid_top_up_min: rust_decimal::Decimal,
    pub prepaid_top_up_max: rust_decimal::Decimal,
    pub prepaid_ceiling: rust_decimal::Decimal,
    pub webhook_secrets: Vec<String>,
    pub jobs_in_serve: bool,
    pub job_concurrency: usize,
    pub job_poll: Duration,
    pub job_max_attempts: i32,
    pub job_backoff: Duration,
    /// Development only: webhook endpoints may be loopback addresses over plain http.
    pub webhooks_allow_loopback: bool,
}

/// The issuer of invoices, credit notes and pro formas: its structured address (as the Swiss
/// QR-bill wants it), VAT number and bank accounts, checked at start.
#[derive(Debug, Clone)]
pub struct IssuerSettings {
    pub name: String,
    pub street: String,
    pub building_number: String,
    pub postal_code: String,
    pub town: String,
    /// ISO 3166-1 alpha-2, upper case.
    pub country: String,
    pub vat_number: Option<String>,
    /// Electronic form (`CH9300762011623852957`).
    pub iban: String,
    /// Electronic form; institution id 30000-31999.
    pub qr_iban: Option<String>,
    pub bic: Option<String>,
}

/// A bad setting: which one and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub setting: String,
    pub message: String,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "invalid setting {}: {}", self.setting, self.message)
    }
}

impl std::error::Error for ConfigError {}

fn err(setting: &str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        setting: setting.to_string(),
        message: message.into(),
    }
}

impl Config {
    /// Reads the process environment (and the TOML file it names).
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(std::env::vars().collect())
    }

    pub fn from_vars(env: HashMap<String, String>) -> Result<Self, ConfigError> {
        let mut values: HashMap<String, String> = HashMap::new();
        if let Some(path) = env.get("LEMAN_CONFIG").filter(|p| !p.is_empty()) {
            let text = std::fs::read_to_string(path)
                .map_err(|e| err("LEMAN_CONFIG", format!("cannot read {path}: {e}")))?;
            let table: toml::Table = text
                .parse()
                .map_err(|e| err("LEMAN_CONFIG", format!("{path} is not valid TOML: {e}")))?;
            for (key, value) in table {
                let name = if key == "database_url" {
                    "DATABASE_URL".to_string()
                } else {
                    format!("LEMAN_{}", key.to_uppercase())
                };
                if !SETTINGS.iter().any(|(n, _, _)| *n == name) || name == "LEMAN_CONFIG" {
                    return Err(err(
                        "LEMAN_CONFIG",
                        format!("{path}: unknown setting `{key}`"),
                    ));
                }
                let value = match value {
                    toml::Value::String(s) => s,
                    toml::Value::Integer(i) => i.to_string(),
                    toml::Value::Boolean(b) => b.to_string(),
                    _ => {
                        return Err(err(
                            "LEMAN_CONFIG",
                            format!("{path}: `{key}` must be a string, number or boolean"),
                        ));
                    }
                };
                values.insert(name, value);
            }
        }
        for (name, _, _) in SETTINGS {
            if let Some(v) = env.get(*name) {
                values.insert(name.to_string(), v.clone());
            }
        }
        let get = |name: &str| -> String {
            values.get(name).cloned().unwrap_or_else(|| {
                SETTINGS
                    .iter()
                    .find(|(n, _, _)| *n == name)
                    .map(|(_, d, _)| d.to_string())
                    .unwrap_or_default()
            })
        };
        let int = |name: &str, min: u64, max: u64| -> Result<u64, ConfigError> {
            let raw = get(name);
            let v: u64 = raw
                .trim()
                .parse()
                .map_err(|_| err(name, format!("`{raw}` is not a whole number")))?;
            if v < min || v > max {
                return Err(err(name, format!("{v} is outside {min}..={max}")));
            }
            Ok(v)
        };
        let boolean = |name: &str| -> Result<bool, ConfigError> {
            match get(name).trim().to_ascii_lowercase().as_str() {
                "1" | "true" | "yes" | "on" => Ok(true),
                "0" | "false" | "no" | "off" => Ok(false),
                other => Err(err(name, format!("`{other}` is not true or false"))),
            }
        };

        let bind_raw = get("LEMAN_BIND");
        let bind: SocketAddr = bind_raw.trim().parse().map_err(|_| {
            err(
                "LEMAN_BIND",
                format!("`{bind_raw}` is not host:port (e.g. 127.0.0.1:8080)"),
            )
        })?;
        let data_dir = PathBuf::from(get("LEMAN_DATA_DIR"));
        if data_dir.as_os_str().is_empty() {
            return Err(err("LEMAN_DATA_DIR", "must not be empty"));
        }
        let database_url = match values.get("DATABASE_URL").filter(|v| !v.trim().is_empty()) {
            Some(url) => DatabaseUrl::parse(url).map_err(|m| err("DATABASE_URL", m))?,
            None => {
                DatabaseUrl::parse(&format!("sqlite://{}", data_dir.join("leman.db").display()))
                    .map_err(|m| err("DATABASE_URL", m))?
            }
        };
        let app_url = get("LEMAN_APP_URL")
            .trim()
            .trim_end_matches('/')
            .to_string();
        if !(app_url.starts_with("http://") || app_url.starts_with("https://"))
            || app_url.len() < 10
        {
            return Err(err(
                "LEMAN_APP_URL",
                format!("`{app_url}` is not an http(s) URL"),
            ));
        }
        let public_api_url = get("LEMAN_PUBLIC_API_URL")
            .trim()
            .trim_end_matches('/')
            .to_string();
        if !(public_api_url.starts_with("http://") || public_api_url.starts_with("https://"))
            || public_api_url.len() < 10
        {
            return Err(err(
                "LEMAN_PUBLIC_API_URL",
                format!("`{public_api_url}` is not an http(s) URL"),
            ));
        }
        let jwt_keys = match get("LEMAN_JWT_KEYS").trim() {
            "" => None,
            raw => Some(parse_jwt_keys(raw).map_err(|m| err("LEMAN_JWT_KEYS", m))?),
        };
        let cors_origins = get("LEMAN_CORS_ORIGINS")
            .split(',')
            .map(|o| o.trim().trim_end_matches('/').to_string())
            .filter(|o| !o.is_empty())
            .collect::<Vec<_>>();
        for origin in &cors_origins {
            if !(origin.starts_with("http://") || origin.starts_with("https://")) {
                return Err(err(
                    "LEMAN_CORS_ORIGINS",
                    format!("`{origin}` is not an http(s) origin"),
                ));
            }
        }
        let metrics_allow = get("LEMAN_METRICS_ALLOW")
            .split(',')
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .map(parse_cidr)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|m| err("LEMAN_METRICS_ALLOW", m))?;
        let metrics_token = match get("LEMAN_METRICS_TOKEN").trim() {
            "" => None,
            t if t.len() < 32 || !t.bytes().all(|b| b.is_ascii_graphic()) => {
                return Err(err(
                    "LEMAN_METRICS_TOKEN",
                    "must be at least 32 visible ASCII characters",
                ));
            }
            t => Some(t.to_string()),
        };
        let log_json = match get("LEMAN_LOG_FORMAT").trim() {
            "json" => true,
            "pretty" => false,
            other => {
                return Err(err(
                    "LEMAN_LOG_FORMAT",
                    format!("`{other}` is not pretty or json"),
                ));
            }
        };
        let log_filter = get("LEMAN_LOG");
        tracing_subscriber::EnvFilter::try_new(&log_filter)
            .map_err(|e| err("LEMAN_LOG", e.to_string()))?;
        let smtp_url = match get("LEMAN_SMTP_URL").trim() {
            "" => None,
            url => {
                lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::from_url(url)
                    .map_err(|e| err("LEMAN_SMTP_URL", e.to_string()))?;
                Some(url.to_string())
            }
        };
        let from_raw = get("LEMAN_MAIL_FROM");
        let mail_from = from_raw.parse().map_err(|e| {
            err(
                "LEMAN_MAIL_FROM",
                format!("`{from_raw}` is not a mailbox: {e}"),
            )
        })?;

        let money = |name: &str| -> Result<rust_decimal::Decimal, ConfigError> {
            let raw = get(name);
            let v: rust_decimal::Decimal = raw
                .trim()
                .parse()
                .map_err(|_| err(name, format!("`{raw}` is not an amount such as 10.00")))?;
            if v <= rust_decimal::Decimal::ZERO || v.normalize().scale() > 2 {
                return Err(err(
                    name,
                    format!("`{raw}` must be positive, in cents at most"),
                ));
            }
            Ok(v)
        };
        let (top_up_min, top_up_max, ceiling) = (
            money("LEMAN_PREPAID_TOP_UP_MIN")?,
            money("LEMAN_PREPAID_TOP_UP_MAX")?,
            money("LEMAN_PREPAID_CEILING")?,
        );
        if top_up_min > top_up_max || top_up_max > ceiling {
            return Err(err(
                "LEMAN_PREPAID_TOP_UP_MAX",
                "needs LEMAN_PREPAID_TOP_UP_MIN <= LEMAN_PREPAID_TOP_UP_MAX <= LEMAN_PREPAID_CEILING",
            ));
        }
        let invoice_issuer_code = get("LEMAN_INVOICE_ISSUER").trim().to_string();
        if invoice_issuer_code.is_empty()
            || invoice_issuer_code.len() > 20
            || !invoice_issuer_code
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-')
        {
            return Err(err(
                "LEMAN_INVOICE_ISSUER",
                "1 to 20 letters, digits or dashes",
            ));
        }

        let issuer = issuer_settings(&get)?;

        Ok(Config {
            bind,
            data_dir,
            database_url,
            db_pool_size: int("LEMAN_DB_POOL_SIZE", 1, 200)? as u32,
            app_url,
            public_api_url,
            jwt_keys,
            cors_origins,
            trust_proxy: boolean("LEMAN_TRUST_PROXY")?,
            metrics_allow,
            metrics_token,
            log_json,
            log_filter,
            http_workers: int("LEMAN_HTTP_WORKERS", 0, 256)? as usize,
            shutdown_timeout: Duration::from_secs(int("LEMAN_SHUTDOWN_TIMEOUT_SECS", 0, 3600)?),
            smtp_url,
            mail_from,
            session_idle: chrono::Duration::minutes(
                int("LEMAN_SESSION_IDLE_MINUTES", 5, 1440)? as i64
            ),
            session_absolute: chrono::Duration::hours(
                int("LEMAN_SESSION_ABSOLUTE_HOURS", 1, 720)? as i64
            ),
            auth_rate_per_ip: int("LEMAN_AUTH_RATE_PER_IP", 1, 1_000_000)? as u32,
            auth_rate_per_account: int("LEMAN_AUTH_RATE_PER_ACCOUNT", 1, 1_000_000)? as u32,
            org_retention_years: int("LEMAN_ORG_RETENTION_YEARS", 1, 50)? as u32,
            catalog_file: Some(get("LEMAN_CATALOG_FILE"))
                .map(|f| f.trim().to_string())
                .filter(|f| !f.is_empty())
                .map(PathBuf::from),
            invoice_issuer: invoice_issuer_code,
            issuer,
            payment_gateway: crate::gateway::GatewayKind::parse(
                get("LEMAN_PAYMENT_GATEWAY").trim(),
            )
            .map_err(|e| err("LEMAN_PAYMENT_GATEWAY", e))?,
            registry: crate::registry::RegistryKind::parse(get("LEMAN_REGISTRY").trim())
                .map_err(|e| err("LEMAN_REGISTRY", e))?,
            order_expiry_days: int("LEMAN_ORDER_EXPIRY_DAYS", 1, 365)? as i64,
            payment_pending_days: int("LEMAN_PAYMENT_PENDING_DAYS", 1, 90)? as i64,
            prepaid_top_up_min: top_up_min,
            prepaid_top_up_max: top_up_max,
            prepaid_ceiling: ceiling,
            webhook_secrets: get("LEMAN_PAYMENT_WEBHOOK_SECRETS")
                .split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect(),
            jobs_in_serve: boolean("LEMAN_JOBS")?,
            job_concurrency: int("LEMAN_JOB_CONCURRENCY", 1, 64)? as usize,
            job_poll: Duration::from_millis(int("LEMAN_JOB_POLL_MS", 10, 3_600_000)?),
            job_max_attempts: int("LEMAN_JOB_MAX_ATTEMPTS", 1, 100)? as i32,
            job_backoff: Duration::from_millis(int("LEMAN_JOB_BACKOFF_MS", 1, 3_600_000)?),
            webhooks_allow_loopback: boolean("LEMAN_WEBHOOKS_ALLOW_LOOPBACK")?,
        })
    }

    pub fn mail_dir(&self) -> PathBuf {
        self.data_dir.join("mail")
    }

    /// A URL of this API as the public reaches it (`/v1/tasks/{id}/download`).
    pub fn api_url(&self, path: &str) -> String {
        format!("{}{}", self.public_api_url, path)
    }

    /// A link in a mail: the front end's page for `path`, carrying `token`.
    pub fn app_link(&self, path: &str, token: &str) -> String {
        format!("{}{}?token={}", self.app_url, path, token)
    }
}

/// The `LEMAN_ISSUER_*` settings, within the QR-bill's field lengths; the IBANs valid (country
/// format and check digits), Swiss or Liechtenstein (what a QR-bill pays into), the QR-IBAN one
/// (institution id 30000-31999) and the IBAN not.
fn issuer_settings(get: &dyn Fn(&str) -> String) -> Result<IssuerSettings, ConfigError> {
    use iban::IbanLike as _;
    let text = |name: &str, min: usize, max: usize| -> Result<String, ConfigError> {
        let v = get(name).trim().to_string();
        let n = v.chars().count();
        if n < min || n > max || v.chars().any(char::is_control) {
            return Err(err(name, format!("must have {min} to {max} characters")));
        }
        Ok(v)
    };
    let optional = |v: String| Some(v).filter(|v| !v.is_empty());
    let iban = |name: &str| -> Result<Option<String>, ConfigError> {
        let raw: String = get(name).chars().filter(|c| !c.is_whitespace()).collect();
        if raw.is_empty() {
            return Ok(None);
        }
        let parsed = raw
            .to_ascii_uppercase()
            .parse::<iban::Iban>()
            .map_err(|_| {
                err(
                    name,
                    format!("`{raw}` is not a valid IBAN (check digits and country format)"),
                )
            })?;
        let electronic = parsed.electronic_str().to_string();
        if !matches!(parsed.country_code(), "CH" | "LI") {
            return Err(err(
                name,
                "must be a Swiss or Liechtenstein IBAN (CH or LI), as a QR-bill requires",
            ));
        }
        Ok(Some(electronic))
    };
    let country = get("LEMAN_ISSUER_COUNTRY").trim().to_ascii_uppercase();
    if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(err(
            "LEMAN_ISSUER_COUNTRY",
            "must be an ISO 3166-1 alpha-2 code such as CH",
        ));
    }
    let account =
        iban("LEMAN_ISSUER_IBAN")?.ok_or_else(|| err("LEMAN_ISSUER_IBAN", "must be set"))?;
    if crate::documents::qrbill::is_qr_iban(&account) {
        return Err(err(
            "LEMAN_ISSUER_IBAN",
            "is a QR-IBAN (institution id 30000-31999): set it as LEMAN_ISSUER_QR_IBAN and give an ordinary IBAN here",
        ));
    }
    let qr_iban = iban("LEMAN_ISSUER_QR_IBAN")?;
    if let Some(q) = &qr_iban
        && !crate::documents::qrbill::is_qr_iban(q)
    {
        return Err(err(
            "LEMAN_ISSUER_QR_IBAN",
            "is not a QR-IBAN: its institution id (characters 5-9) must be 30000-31999",
        ));
    }
    let bic = get("LEMAN_ISSUER_BIC").trim().to_ascii_uppercase();
    let bic_ok = bic.is_empty()
        || ((bic.len() == 8 || bic.len() == 11)
            && bic[..6].bytes().all(|b| b.is_ascii_uppercase())
            && bic[6..].bytes().all(|b| b.is_ascii_alphanumeric()));
    if !bic_ok {
        return Err(err(
            "LEMAN_ISSUER_BIC",
            format!("`{bic}` is not a BIC (8 or 11 letters and digits)"),
        ));
    }
    Ok(IssuerSettings {
        name: text("LEMAN_ISSUER_NAME", 1, 70)?,
        street: text("LEMAN_ISSUER_STREET", 0, 70)?,
        building_number: text("LEMAN_ISSUER_BUILDING_NUMBER", 0, 16)?,
        postal_code: text("LEMAN_ISSUER_POSTAL_CODE", 1, 16)?,
        town: text("LEMAN_ISSUER_TOWN", 1, 35)?,
        country,
        vat_number: optional(text("LEMAN_ISSUER_VAT_NUMBER", 0, 40)?),
        iban: account,
        qr_iban,
        bic: optional(bic),
    })
}

/// `10.0.0.0/8`, `::1/128` or a bare address (the whole address).
fn parse_cidr(raw: &str) -> Result<(std::net::IpAddr, u8), String> {
    let (ip, prefix) = match raw.split_once('/') {
        Some((ip, prefix)) => (ip, Some(prefix)),
        None => (raw, None),
    };
    let ip: std::net::IpAddr = ip
        .trim()
        .parse()
        .map_err(|_| format!("`{raw}` is not an IP address or a CIDR such as 10.0.0.0/8"))?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let prefix = match prefix {
        None => max,
        Some(p) => p
            .trim()
            .parse::<u8>()
            .ok()
            .filter(|p| *p <= max)
            .ok_or_else(|| format!("`{raw}`: the prefix length must be 0-{max}"))?,
    };
    Ok((ip, prefix))
}

impl Config {
    /// Whether `ip` is in `LEMAN_METRICS_ALLOW` (an IPv4-mapped IPv6 address counts as IPv4).
    pub fn metrics_allowed(&self, ip: std::net::IpAddr) -> bool {
        use std::net::IpAddr;
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        self.metrics_allow
            .iter()
            .any(|(net, prefix)| match (net, ip) {
                (IpAddr::V4(net), IpAddr::V4(ip)) => {
                    let mask = u32::MAX.checked_shl(32 - u32::from(*prefix)).unwrap_or(0);
                    u32::from(*net) & mask == u32::from(ip) & mask
                }
                (IpAddr::V6(net), IpAddr::V6(ip)) => {
                    let mask = u128::MAX.checked_shl(128 - u32::from(*prefix)).unwrap_or(0);
                    u128::from(*net) & mask == u128::from(ip) & mask
                }
                _ => false,
            })
    }
}

/// `kid:base64secret,kid2:base64secret`; secrets of at least 32 bytes.
fn parse_jwt_keys(raw: &str) -> Result<Vec<(String, Vec<u8>)>, String> {
    use base64::Engine as _;
    let mut keys = Vec::new();
    for (i, part) in raw
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .enumerate()
    {
        let (kid, secret) = part
            .split_once(':')
            .ok_or_else(|| format!("key {} is not `kid:base64secret`", i + 1))?;
        let kid = kid.trim();
        if kid.is_empty()
            || kid.len() > 64
            || !kid
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(format!(
                "key {}: the kid must be 1-64 letters, digits, - or _",
                i + 1
            ));
        }
        let secret = base64::engine::general_purpose::STANDARD
            .decode(secret.trim())
            .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(secret.trim()))
            .map_err(|_| format!("key `{kid}`: the secret is not base64"))?;
        if secret.len() < 32 {
            return Err(format!(
                "key `{kid}`: the secret must be at least 32 bytes (256 bits)"
            ));
        }
        if keys.iter().any(|(k, _): &(String, Vec<u8>)| k == kid) {
            return Err(format!("key `{kid}` is listed twice"));
        }
        keys.push((kid.to_string(), secret));
    }
    if keys.is_empty() {
        return Err("no key given".into());
    }
    Ok(keys)
}

/// The settings as help text (for `leman --help`).
pub fn settings_help() -> String {
    let mut out = String::from("Configuration (environment variables):\n");
    for (name, default, description) in SETTINGS {
        let default = if default.is_empty() {
            String::new()
        } else {
            format!(" [default: {default}]")
        };
        out.push_str(&format!("  {name}\n      {description}{default}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_serve_a_newcomer() {
        let c = Config::from_vars(vars(&[])).unwrap();
        assert_eq!(c.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(c.database_url.target, "./data/leman.db");
        assert_eq!(c.app_url, "http://127.0.0.1:8080");
        assert!(c.jwt_keys.is_none());
        assert_eq!(c.mail_dir(), PathBuf::from("./data/mail"));
    }

    #[test]
    fn a_bad_setting_names_itself() {
        let e = Config::from_vars(vars(&[("LEMAN_BIND", "nowhere")])).unwrap_err();
        assert_eq!(e.setting, "LEMAN_BIND");
        let e = Config::from_vars(vars(&[("DATABASE_URL", "mysql://x")])).unwrap_err();
        assert_eq!(e.setting, "DATABASE_URL");
        let e = Config::from_vars(vars(&[("LEMAN_JWT_KEYS", "k1:c2hvcnQ=")])).unwrap_err();
        assert_eq!(e.setting, "LEMAN_JWT_KEYS");
        assert!(e.message.contains("32 bytes"));
        let e = Config::from_vars(vars(&[("LEMAN_DB_POOL_SIZE", "0")])).unwrap_err();
        assert_eq!(e.setting, "LEMAN_DB_POOL_SIZE");
    }

    #[test]
    fn f11_metrics_are_open_to_loopback_by_default_and_to_listed_networks() {
        let ip = |s: &str| s.parse::<std::net::IpAddr>().unwrap();
        let c = Config::from_vars(vars(&[])).unwrap();
        assert!(c.metrics_allowed(ip("127.0.0.1")));
        assert!(c.metrics_allowed(ip("::1")));
        assert!(c.metrics_allowed(ip("::ffff:127.0.0.1")));
        assert!(!c.metrics_allowed(ip("10.0.0.1")));
        assert!(c.metrics_token.is_none());
        let c = Config::from_vars(vars(&[(
            "LEMAN_METRICS_ALLOW",
            "10.1.0.0/16, 192.0.2.7, fd00::/8",
        )]))
        .unwrap();
        assert!(c.metrics_allowed(ip("10.1.200.3")));
        assert!(!c.metrics_allowed(ip("10.2.0.1")));
        assert!(c.metrics_allowed(ip("192.0.2.7")));
        assert!(!c.metrics_allowed(ip("192.0.2.8")));
        assert!(c.metrics_allowed(ip("fd12::1")));
        assert!(!c.metrics_allowed(ip("127.0.0.1")));
        let c = Config::from_vars(vars(&[("LEMAN_METRICS_ALLOW", "0.0.0.0/0")])).unwrap();
        assert!(c.metrics_allowed(ip("203.0.113.9")));
        let c = Config::from_vars(vars(&[("LEMAN_METRICS_ALLOW", "")])).unwrap();
        assert!(!c.metrics_allowed(ip("127.0.0.1")));
        for bad in ["10.0.0.0/33", "localhost", "::1/129"] {
            let e = Config::from_vars(vars(&[("LEMAN_METRICS_ALLOW", bad)])).unwrap_err();
            assert_eq!(e.setting, "LEMAN_METRICS_ALLOW", "{bad}");
        }
        let e = Config::from_vars(vars(&[("LEMAN_METRICS_TOKEN", "short")])).unwrap_err();
        assert_eq!(e.setting, "LEMAN_METRICS_TOKEN");
    }

    #[test]
    fn jwt_keys_keep_their_order_for_rotation() {
        let secret = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, [7u8; 32]);
        let c = Config::from_vars(vars(&[(
            "LEMAN_JWT_KEYS",
            &format!("new:{secret}, old:{secret}"),
        )]))
        .unwrap();
        let keys = c.jwt_keys.unwrap();
        assert_eq!(keys[0].0, "new");
        assert_eq!(keys[1].0, "old");
    }

    #[test]
    fn the_toml_file_is_overridden_by_the_environment() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("leman.toml");
        std::fs::write(&file, "bind = \"0.0.0.0:9000\"\ndb_pool_size = 3\n").unwrap();
        let path = file.to_str().unwrap();
        let c = Config::from_vars(vars(&[("LEMAN_CONFIG", path)])).unwrap();
        assert_eq!(c.bind.to_string(), "0.0.0.0:9000");
        assert_eq!(c.db_pool_size, 3);
        let c = Config::from_vars(vars(&[
            ("LEMAN_CONFIG", path),
            ("LEMAN_BIND", "127.0.0.1:1"),
        ]))
        .unwrap();
        assert_eq!(c.bind.to_string(), "127.0.0.1:1");
        std::fs::write(&file, "colour = \"blue\"\n").unwrap();
        let e = Config::from_vars(vars(&[("LEMAN_CONFIG", path)])).unwrap_err();
        assert_eq!(e.setting, "LEMAN_CONFIG");
    }
}
