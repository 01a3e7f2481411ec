//! Outgoing webhooks (issue 14), after the Standard Webhooks specification
//! (<https://www.standardwebhooks.com>): an organisation's admins register HTTPS endpoints and
//! the event types each wants; every change of those types queues one delivery per endpoint in
//! the change's own transaction (the outbox: a rolled-back change sends nothing), and the
//! `deliver_webhooks` job sends them, signed, outside any transaction.
//!
//! A delivery is a POST of `{"type","timestamp","data"}` with the headers `webhook-id` (the
//! event's id, the same on every retry), `webhook-timestamp` (Unix seconds of the attempt) and
//! `webhook-signature` (`v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, keyed with the
//! base64-decoded part of the secret after `whsec_`; during the 24 hours after a rotation the
//! previous secret signs too, space-separated).
//!
//! Server-side request forgery: the host is resolved and every address checked
//! (`domain::webhooks::refused_address`); the connection goes to the checked address (no second
//! lookup an attacker's DNS could answer differently). Checked at create and update (422
//! `webhook_url_not_allowed`) and again at each delivery. No redirect is followed; the answer
//! is read up to 64 KiB; the attempt times out after 10 seconds.

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, OnceLock, RwLock};
use std::time::{Duration, Instant};

use base64::Engine as _;
use chrono::{NaiveDateTime, TimeDelta};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

use crate::auth::caller::Caller;
use crate::catalog::Catalog;
use crate::context::Services;
use crate::db::{self, DbConnection, Pool};
use crate::domain::actor::Origin;
use crate::domain::ids::{WebhookDeliveryId, WebhookEndpointId};
use crate::domain::page::PageParams;
use crate::domain::webhooks::{self as rules, WebhookEventType};
use crate::error::AppError;
use crate::models::webhook_deliveries::{self as deliveries, Attempt, WebhookDelivery};
use crate::models::webhook_endpoints::{self as endpoints, EndpointChange, WebhookEndpoint};
use crate::services::activity::{self, Event};
use crate::services::orgs::{self, OrgRequest};

/// The prefix of a signing secret.
pub const SECRET_PREFIX: &str = "whsec_";
/// How long one attempt may take (connecting, sending, reading the answer).
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);
/// How much of an answer is read.
pub const MAX_RESPONSE_BYTES: usize = 64 * 1024;
/// The most endpoints an organisation may have.
pub const MAX_ENDPOINTS: i64 = 20;
/// Deliveries one pass of the job sends (at once).
pub const BATCH: i64 = 16;
/// How long a claim holds a delivery before another runner may retry it.
const LEASE_SECS: i64 = 120;
/// A pass stops claiming after this long (the job's lease is 300 s; the next pass goes on).
const PASS_SECS: u64 = 60;
const MAX_URL_LEN: usize = 2000;
const MAX_DESCRIPTION_LEN: usize = 500;

// ---------------------------------------------------------------------------------------------
// Secrets and signatures.

/// A new signing secret: `whsec_` + base64 of 32 random bytes.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!(
        "{SECRET_PREFIX}{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

/// `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">` under `secret` (`whsec_…`).
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &str) -> String {
    let key = base64::engine::general_purpose::STANDARD
        .decode(secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret))
        .unwrap_or_else(|_| secret.as_bytes().to_vec());
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).expect("HMAC takes any key length");
    mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
    format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    )
}

/// The `webhook-signature` header: one signature per secret, space-separated.
pub fn signature_header(secrets: &[&str], id: &str, timestamp: i64, body: &str) -> String {
    secrets
        .iter()
        .map(|s| sign(s, id, timestamp, body))
        .collect::<Vec<_>>()
        .join(" ")
}

// ---------------------------------------------------------------------------------------------
// The outbox.

/// The catalogue the payloads' views read (a product's backups, a domain extension's
/// privacy): `Services` registers its own at start; until then, the built-in one.
static CATALOG: RwLock<Option<Arc<Catalog>>> = RwLock::new(None);

/// Makes `catalog` the one deliveries' views read (`Services::build` calls it). An event is
/// recorded deep inside a change's transaction, where no `Services` is at hand.
pub fn use_catalog(catalog: Arc<Catalog>) {
    *CATALOG.write().unwrap_or_else(|e| e.into_inner()) = Some(catalog);
}

fn catalog() -> Arc<Catalog> {
    static BUILTIN: OnceLock<Arc<Catalog>> = OnceLock::new();
    if let Some(c) = CATALOG.read().unwrap_or_else(|e| e.into_inner()).as_ref() {
        return c.clone();
    }
    BUILTIN
        .get_or_init(|| Arc::new(Catalog::load(None).expect("the built-in catalogue is valid")))
        .clone()
}

/// Queues `event_type` for every enabled endpoint of `org_id` subscribed to it, in the
/// caller's transaction. Its `data` is the event's resource (`id`, or the one `facts` name) as
/// the API shows it, loaded here with the same connection, so as the change left it
/// (`views::webhooks::event_data`), with the facts of the change it does not show under
/// `change`. Loaded once per event, and only when an endpoint wants it.
pub fn publish(
    conn: &mut DbConnection,
    org_id: &str,
    event_type: WebhookEventType,
    id: Option<&str>,
    facts: &serde_json::Map<String, serde_json::Value>,
) -> diesel::QueryResult<()> {
    let subscribed: Vec<WebhookEndpoint> = endpoints::enabled_of(conn, org_id)?
        .into_iter()
        .filter(|e| {
            e.event_type_names()
                .iter()
                .any(|t| t == event_type.as_str())
        })
        .collect();
    if subscribed.is_empty() {
        return Ok(());
    }
    let data = crate::views::webhooks::event_data(conn, &catalog(), org_id, event_type, id, facts)?;
    let now = db::now();
    let body = serde_json::json!({
        "type": event_type.as_str(),
        "timestamp": now.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "data": data,
    })
    .to_string();
    let event_id = db::new_id("msg");
    for endpoint in subscribed {
        deliveries::insert(
            conn,
            &WebhookDelivery {
                id: WebhookDeliveryId::generate().into_inner(),
                endpoint_id: endpoint.id,
                organization_id: org_id.to_string(),
                event_id: event_id.clone(),
                event_type: event_type.as_str().to_string(),
                payload: body.clone(),
                status: deliveries::PENDING.to_string(),
                attempts: 0,
                next_attempt_at: Some(now),
                claimed_until: None,
                last_attempt_at: None,
                last_status_code: None,
                last_duration_ms: None,
                last_error: None,
                created_at: now,
            },
        )?;
    }
    Ok(())
}

/// The webhook a recorded change publishes (`activity::record` calls it in the change's
/// transaction): its kind mapped to an event type, about the resource it names, its details
/// as the change's facts.
pub fn publish_activity(conn: &mut DbConnection, event: &Event<'_>) -> diesel::QueryResult<()> {
    use crate::domain::events::ActivityKind;
    let (Some(event_type), Some(org_id)) = (
        WebhookEventType::of_activity(event.action),
        event.organization,
    ) else {
        return Ok(());
    };
    let mut facts = match &event.details {
        serde_json::Value::Object(map) => map.clone(),
        _ => serde_json::Map::new(),
    };
    use crate::views::webhooks::Resource;
    let id = match Resource::of(event_type) {
        // The member is the subject when someone else acted (removed, changed), else the actor.
        Resource::Member | Resource::FormerMember => event.subject.or(event.actor),
        Resource::Product => event.product,
        _ => None,
    };
    match event.action {
        ActivityKind::MemberLeft => {
            facts.insert("reason".into(), "left".into());
            facts.insert("removed_by".into(), serde_json::Value::Null);
        }
        ActivityKind::MemberRemoved => {
            facts.insert("reason".into(), "removed".into());
            facts.insert("removed_by".into(), event.actor.into());
        }
        _ => {}
    }
    publish(conn, org_id, event_type, id, &facts)
}

fn facts(value: serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
    match value {
        serde_json::Value::Object(map) => map,
        _ => serde_json::Map::new(),
    }
}

/// `product.created`: a paid order started `product` (no activity kind of its own: the order's
/// payment is what the activity log records).
pub fn product_created(
    conn: &mut DbConnection,
    product: &crate::models::products::Product,
) -> diesel::QueryResult<()> {
    publish(
        conn,
        &product.organization_id,
        WebhookEventType::ProductCreated,
        Some(&product.id),
        &serde_json::Map::new(),
    )
}

/// `payment.succeeded`: a payment was settled as succeeded (a card charge, a bank transfer, a
/// payment from the prepaid account). No activity kind of its own: the activity log records
/// what it paid (the invoice, the top-up).
pub fn payment_succeeded(
    conn: &mut DbConnection,
    payment: &crate::models::payments::Payment,
) -> diesel::QueryResult<()> {
    publish(
        conn,
        &payment.organization_id,
        WebhookEventType::PaymentSucceeded,
        Some(&payment.id),
        &facts(serde_json::json!({
            "invoice_id": payment.invoice_id,
            "purpose": payment.purpose,
        })),
    )
}

/// `product.renewed`: a paid renewal moved its product's expiry.
pub fn product_renewed(
    conn: &mut DbConnection,
    renewal: &crate::models::renewals::Renewal,
) -> diesel::QueryResult<()> {
    publish(
        conn,
        &renewal.organization_id,
        WebhookEventType::ProductRenewed,
        Some(&renewal.product_id),
        &facts(serde_json::json!({
            "renewal_id": renewal.id,
            "order_id": renewal.order_id,
            "period_start": renewal.period_start.and_utc(),
            "period_months": renewal.period_months,
        })),
    )
}

/// `renewal.failed`: the scheduler's charge for an automatic renewal was declined or could not
/// be made (`next_attempt_at` null: no retry, auto-renewal was turned off). `data` is the
/// product (as the scheduler's transaction left it: auto-renewal off after a hard decline),
/// the renewal and its failure under `change`.
pub fn renewal_failed(
    conn: &mut DbConnection,
    renewal: &crate::models::renewals::Renewal,
    failure: &str,
    next_attempt_at: Option<chrono::NaiveDateTime>,
) -> diesel::QueryResult<()> {
    publish(
        conn,
        &renewal.organization_id,
        WebhookEventType::RenewalFailed,
        Some(&renewal.product_id),
        &facts(serde_json::json!({
            "renewal_id": renewal.id,
            "order_id": renewal.order_id,
            "failure": failure,
            "next_attempt_at": next_attempt_at.map(|t| t.and_utc()),
        })),
    )
}

// ---------------------------------------------------------------------------------------------
// Addresses.

/// A checked endpoint URL.
#[derive(Debug, Clone)]
pub struct Target {
    pub https: bool,
    pub host: String,
    pub port: u16,
    /// The path and query sent in the request line.
    pub path: String,
}

/// Parses an endpoint URL: `https://…` (plain `http://` only to a loopback host when the
/// development setting allows loopback), no credentials, no fragment. Field errors at `/url`.
pub fn parse_url(raw: &str, allow_loopback: bool) -> Result<Target, AppError> {
    let bad = |code: &str, message: &str| AppError::field("/url", code, message);
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(bad("required", "give the endpoint's HTTPS URL"));
    }
    // The URL parser drops tabs and line breaks silently: refuse them rather than store a URL
    // that is not the one called.
    if raw.chars().any(char::is_control) {
        return Err(bad("invalid_url", "must not contain control characters"));
    }
    if raw.len() > MAX_URL_LEN {
        return Err(bad("too_long", "must be at most 2000 characters"));
    }
    let url = url::Url::parse(raw).map_err(|_| bad("invalid_url", "is not a valid URL"))?;
    let host = match url.host() {
        Some(url::Host::Domain(d)) => d.to_ascii_lowercase(),
        Some(url::Host::Ipv4(ip)) => ip.to_string(),
        Some(url::Host::Ipv6(ip)) => ip.to_string(),
        None => return Err(bad("invalid_url", "has no host")),
    };
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("invalid_url", "must not carry a user name or password"));
    }
    if url.fragment().is_some() {
        return Err(bad("invalid_url", "must not have a fragment (#…)"));
    }
    let https = match url.scheme() {
        "https" => true,
        "http" if allow_loopback && is_loopback_host(&host) => false,
        _ => return Err(bad("https_required", "must be an https:// URL")),
    };
    let port = url
        .port_or_known_default()
        .ok_or_else(|| bad("invalid_url", "has no port"))?;
    let mut path = url.path().to_string();
    if let Some(q) = url.query() {
        path.push('?');
        path.push_str(q);
    }
    Ok(Target {
        https,
        host,
        port,
        path,
    })
}

fn is_loopback_host(host: &str) -> bool {
    host == "localhost"
        || host
            .parse::<IpAddr>()
            .map(|ip| ip.is_loopback())
            .unwrap_or(false)
}

/// Resolves `host` and checks every address it has: the first one to connect to, or why the
/// host is refused. A name with any refused address is refused (a public and a private answer
/// together are no better than the private one).
pub async fn resolve_checked(
    host: &str,
    port: u16,
    allow_loopback: bool,
) -> Result<SocketAddr, String> {
    let addrs: Vec<SocketAddr> = match host.parse::<IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, port)],
        Err(_) => tokio::time::timeout(
            Duration::from_secs(5),
            tokio::net::lookup_host((host, port)),
        )
        .await
        .map_err(|_| format!("resolving {host} timed out"))?
        .map_err(|_| format!("{host} does not resolve"))?
        .collect(),
    };
    if addrs.is_empty() {
        return Err(format!("{host} has no address"));
    }
    for addr in &addrs {
        if let Some(why) = rules::refused_address(addr.ip(), allow_loopback) {
            // The address itself is not named: an answer must not map the internal network.
            return Err(format!(
                "{host} resolves to a {why} address, which webhooks may not call"
            ));
        }
    }
    Ok(addrs[0])
}

/// Checks an endpoint URL, its host resolved: 422 `webhook_url_not_allowed` when it resolves to
/// an address webhooks may not call (or does not resolve).
pub async fn check_url(raw: &str, allow_loopback: bool) -> Result<String, AppError> {
    let target = parse_url(raw, allow_loopback)?;
    resolve_checked(&target.host, target.port, allow_loopback)
        .await
        .map_err(|why| AppError::unprocessable("webhook_url_not_allowed", why))?;
    Ok(raw.trim().to_string())
}

// ---------------------------------------------------------------------------------------------
// Endpoints.

pub struct EndpointInput {
    pub url: Option<String>,
    pub description: Option<String>,
    pub event_types: Option<Vec<String>>,
    pub enabled: Option<bool>,
}

fn check_event_types(raw: &[String], caller: &Caller) -> Result<String, AppError> {
    if raw.is_empty() {
        return Err(AppError::field(
            "/event_types",
            "required",
            "name at least one event type (GET /v1/event-types lists them)",
        ));
    }
    let mut types: Vec<WebhookEventType> = Vec::with_capacity(raw.len());
    let mut errors = vec![];
    for (i, name) in raw.iter().enumerate() {
        match WebhookEventType::parse(name) {
            Some(t) => {
                if !types.contains(&t) {
                    types.push(t)
                }
            }
            None => errors.push(crate::error::FieldError {
                field: format!("/event_types/{i}"),
                code: "unknown_event_type".into(),
                message: "is not an event type (GET /v1/event-types lists them)".into(),
            }),
        }
    }
    if !errors.is_empty() {
        return Err(AppError::validation(errors));
    }
    for t in &types {
        caller.require_scope(t.read_scope())?;
    }
    types.sort();
    Ok(serde_json::to_string(&types).expect("event types serialise"))
}

/// A caller may steer an endpoint (its URL, its secret, a retry) only if it could read what the
/// endpoint's events carry: the same scopes as subscribing to them.
fn require_read_scopes(caller: &Caller, endpoint: &WebhookEndpoint) -> Result<(), AppError> {
    for name in endpoint.event_type_names() {
        if let Some(t) = WebhookEventType::parse(&name) {
            caller.require_scope(t.read_scope())?;
        }
    }
    Ok(())
}

fn check_description(raw: &str) -> Result<String, AppError> {
    let d = raw.trim();
    if d.chars().count() > MAX_DESCRIPTION_LEN || d.chars().any(|c| c.is_control()) {
        return Err(AppError::field(
            "/description",
            "invalid",
            "must be at most 500 characters, without control characters",
        ));
    }
    Ok(d.to_string())
}

/// The organisation's endpoints, a keyset page (admins).
pub async fn list(
    pool: &Pool,
    org: &OrgRequest,
    page: PageParams,
) -> Result<(Vec<WebhookEndpoint>, Option<String>), AppError> {
    orgs::page_in(pool, org, page, endpoints::page, |e| {
        (e.created_at, e.id.as_str())
    })
    .await
}

fn not_found() -> AppError {
    AppError::not_found("No such webhook endpoint.")
}

/// One endpoint of the organisation.
pub async fn get(
    pool: &Pool,
    org: &OrgRequest,
    id: WebhookEndpointId,
) -> Result<WebhookEndpoint, AppError> {
    let org = org.clone();
    db::run(pool, move |conn| {
        let access = org.authorize(conn)?;
        endpoints::find(conn, &access.org.id, &id)?.ok_or_else(not_found)
    })
    .await
}

/// Registers an endpoint; its secret is in the returned row (shown once).
pub async fn create(
    ctx: &Services,
    meta: Origin,
    org: &OrgRequest,
    input: EndpointInput,
) -> Result<WebhookEndpoint, AppError> {
    let allow = ctx.config.webhooks_allow_loopback;
    let event_types = check_event_types(
        input.event_types.as_deref().unwrap_or_default(),
        &org.caller,
    )?;
    let description = check_description(input.description.as_deref().unwrap_or_default())?;
    let url = input.url.unwrap_or_default();
    // Syntax first (field errors), before anything is resolved.
    parse_url(&url, allow)?;
    // Only members with the right may make the server resolve names.
    org.access(&ctx.pool).await?;
    let url = check_url(&url, allow).await?;
    let now = db::now();
    let endpoint = WebhookEndpoint {
        id: WebhookEndpointId::generate().into_inner(),
        organization_id: org.org_id.to_string(),
        url,
        description,
        event_types,
        enabled: input.enabled.unwrap_or(true),
        secret: new_secret(),
        previous_secret: None,
        previous_secret_expires_at: None,
        failing_since: None,
        disabled_reason: None,
        created_at: now,
        updated_at: now,
    };
    let (row, org) = (endpoint.clone(), org.clone());
    db::run(&ctx.pool, move |conn| {
        db::write(conn, |c| {
            let access = org.authorize(c)?;
            if endpoints::count(c, &access.org.id)? >= MAX_ENDPOINTS {
                return Err(AppError::conflict(
                    "webhook_endpoint_limit_reached",
                    format!("An organisation has at most {MAX_ENDPOINTS} webhook endpoints."),
                ));
            }
            endpoints::insert(c, &row)?;
            activity::record(
                c,
                &meta,
                Event::webhook_endpoint(
                    crate::domain::events::ActivityKind::WebhookEndpointCreated,
                    &org.caller.user_id,
                    &access.org.id,
                    &row,
                ),
            )?;
            Ok(())
        })
    })
    .await?;
    Ok(endpoint)
}

/// Changes an endpoint. Enabling a disabled one clears its failure record.
pub async fn update(
    ctx: &Services,
    meta: Origin,
    org: &OrgRequest,
    id: WebhookEndpointId,
    input: EndpointInput,
) -> Result<WebhookEndpoint, AppError> {
    let allow = ctx.config.webhooks_allow_loopback;
    let event_types = input
        .event_types
        .as_deref()
        .map(|types| check_event_types(types, &org.caller))
        .transpose()?;
    let description = input
        .description
        .as_deref()
        .map(check_description)
        .transpose()?;
    if let Some(url) = &input.url {
        parse_url(url, allow)?;
    }
    let existing = get(&ctx.pool, org, id.clone()).await?;
    if event_types.is_none() {
        require_read_scopes(&org.caller, &existing)?;
    }
    let url = match input.url {
        Some(url) => Some(check_url(&url, allow).await?),
        None => None,
    };
    let now = db::now();
    let re_enabled = input.enabled == Some(true) && !existing.enabled;
    let change = EndpointChange {
        url,
        description,
        event_types,
        enabled: input.enabled,
        failing_since: re_enabled.then_some(None),
        disabled_reason: re_enabled.then_some(None),
        updated_at: Some(now),
    };
    let org = org.clone();
    db::run(&ctx.pool, move |conn| {
        db::write(conn, |c| {
            let access = org.authorize(c)?;
            endpoints::find(c, &access.org.id, &id)?.ok_or_else(not_found)?;
            endpoints::update(c, &id, &change)?;
            let row = endpoints::find(c, &access.org.id, &id)?.ok_or_else(not_found)?;
            activity::record(
                c,
                &meta,
                Event::webhook_endpoint(
                    crate::domain::events::ActivityKind::WebhookEndpointUpdated,
                    &org.caller.user_id,
                    &access.org.id,
                    &row,
                ),
            )?;
            Ok(row)
        })
    })
    .await
}

/// Deletes an endpoint and its delivery log.
pub async fn delete(
    ctx: &Services,
    meta: Origin,
    org: &OrgRequest,
    id: WebhookEndpointId,
) -> Result<(), AppError> {
    let org = org.clone();
    db::run(&ctx.pool, move |conn| {
        db::write(conn, |c| {
            let access = org.authorize(c)?;
            let row = endpoints::find(c, &access.org.id, &id)?.ok_or_else(not_found)?;
            endpoints::delete(c, &id)?;
            activity::record(
                c,
                &meta,
                Event::webhook_endpoint(
                    crate::domain::events::ActivityKind::WebhookEndpointDeleted,
                    &org.caller.user_id,
                    &access.org.id,
                    &row,
                ),
            )?;
            Ok(())
        })
    })
    .await
}

/// A new secret (returned once); the previous one keeps signing for 24 hours.
pub async fn rotate_secret(
    ctx: &Services,
    meta: Origin,
    org: &OrgRequest,
    id: WebhookEndpointId,
) -> Result<WebhookEndpoint, AppError> {
    let org = org.clone();
    db::run(&ctx.pool, move |conn| {
        db::write(conn, |c| {
            let access = org.authorize(c)?;
            let row = endpoints::find(c, &access.org.id, &id)?.ok_or_else(not_found)?;
            require_read_scopes(&org.caller, &row)?;
            let now = db::now();
            let until = now + TimeDelta::seconds(rules::ROTATION_OVERLAP_SECS);
            endpoints::rotate(c, &id, &new_secret(), &row.secret, until, now)?;
            let row = endpoints::find(c, &access.org.id, &id)?.ok_or_else(not_found)?;
            activity::record(
                c,
                &meta,
                Event::webhook_endpoint(
                    crate::domain::events::ActivityKind::WebhookEndpointSecretRotated,
                    &org.caller.user_id,
                    &access.org.id,
                    &row,
                ),
            )?;
            Ok(row)
        })
    })
    .await
}

/// An endpoint's deliveries, newest first (a keyset page).
pub async fn list_deliveries(
    pool: &Pool,
    org: &OrgRequest,
    id: WebhookEndpointId,
    page: PageParams,
) -> Result<(Vec<WebhookDelivery>, Option<String>), AppError> {
    get(pool, org, id.clone()).await?;
    let limit = page.limit()?;
    let after = page
        .cursor
        .as_deref()
        .map(crate::domain::page::cursor::decode)
        .transpose()?;
    let mut rows = db::run(pool, move |conn| {
        Ok(deliveries::page(conn, &id, after, limit + 1)?)
    })
    .await?;
    let next = crate::services::tokens::next_cursor(&mut rows, limit, |r| {
        crate::domain::page::cursor::encode(r.created_at, &r.id)
    });
    Ok((rows, next))
}

/// Queues a delivery again, due now (its endpoint must be enabled).
pub async fn retry_delivery(
    ctx: &Services,
    meta: Origin,
    org: &OrgRequest,
    endpoint_id: WebhookEndpointId,
    delivery_id: WebhookDeliveryId,
) -> Result<WebhookDelivery, AppError> {
    let org = org.clone();
    db::run(&ctx.pool, move |conn| {
        db::write(conn, |c| {
            let access = org.authorize(c)?;
            let endpoint =
                endpoints::find(c, &access.org.id, &endpoint_id)?.ok_or_else(not_found)?;
            require_read_scopes(&org.caller, &endpoint)?;
            let delivery = deliveries::find(c, &endpoint.id, &delivery_id)?
                .ok_or_else(|| AppError::not_found("No such webhook delivery."))?;
            if !endpoint.enabled {
                return Err(AppError::conflict(
                    "webhook_endpoint_disabled",
                    "The endpoint is disabled: enable it before retrying its deliveries.",
                ));
            }
            if delivery.status == deliveries::PENDING && delivery.claimed_until.is_some() {
                return Err(AppError::conflict(
                    "webhook_delivery_in_progress",
                    "The delivery is being sent right now.",
                ));
            }
            deliveries::requeue(c, &delivery.id, db::now())?;
            activity::record(
                c,
                &meta,
                Event::webhook_delivery_retried(
                    &org.caller.user_id,
                    &access.org.id,
                    &endpoint.id,
                    &delivery.id,
                ),
            )?;
            deliveries::find(c, &endpoint.id, &delivery.id)?
                .ok_or_else(|| AppError::not_found("No such webhook delivery."))
        })
    })
    .await
}

// ---------------------------------------------------------------------------------------------
// Delivery.

/// What one attempt gave.
#[derive(Debug)]
pub struct Outcome {
    pub status_code: Option<u16>,
    pub error: Option<String>,
    pub duration: Duration,
}

impl Outcome {
    pub fn succeeded(&self) -> bool {
        self.status_code.is_some_and(|s| (200..300).contains(&s))
    }
}

/// Sends every delivery due at `now` (the `deliver_webhooks` job passes the current time; a
/// test may pass a later one). Returns how many were attempted. No transaction is open while
/// an endpoint is called.
pub async fn deliver_due(services: &Services, now: NaiveDateTime) -> Result<usize, String> {
    // `now` may be ahead of the clock (tests move it); each batch adds the real time spent
    // since, so a long pass leases and signs with the time of its attempts (receivers refuse a
    // `webhook-timestamp` minutes old), and it stops claiming after `PASS_SECS`, well inside
    // the job's own lease: a pass never overlaps the next one, which goes on where it stopped.
    let started = Instant::now();
    let mut total = 0;
    loop {
        if started.elapsed() > Duration::from_secs(PASS_SECS) {
            return Ok(total);
        }
        // Whole seconds: a pass shorter than one keeps the given `now` exactly.
        let now = now + TimeDelta::seconds(started.elapsed().as_secs() as i64);
        let pool = services.pool.clone();
        let claimed = tokio::task::spawn_blocking(move || {
            let mut conn = pool.get().map_err(|e| e.to_string())?;
            deliveries::claim_due(&mut conn, now, now + TimeDelta::seconds(LEASE_SECS), BATCH)
                .map_err(|e| e.to_string())
        })
        .await
        .map_err(|e| e.to_string())??;
        if claimed.is_empty() {
            return Ok(total);
        }
        total += claimed.len();
        let sends = claimed.into_iter().map(|d| deliver_one(services, d, now));
        for result in futures_util::future::join_all(sends).await {
            if let Err(e) = result {
                tracing::warn!("webhook delivery: {e}");
            }
        }
    }
}

async fn deliver_one(
    services: &Services,
    delivery: WebhookDelivery,
    now: NaiveDateTime,
) -> Result<(), String> {
    let pool = services.pool.clone();
    let endpoint_id = delivery.endpoint_id.clone();
    let endpoint = tokio::task::spawn_blocking(move || {
        let mut conn = pool.get().map_err(|e| e.to_string())?;
        endpoints::get(&mut conn, &endpoint_id).map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| e.to_string())??;
    let Some(endpoint) = endpoint.filter(|e| e.enabled) else {
        let pool = services.pool.clone();
        return tokio::task::spawn_blocking(move || {
            let mut conn = pool.get().map_err(|e| e.to_string())?;
            db::write(&mut conn, |c| {
                deliveries::abandon(c, &delivery.id, "the endpoint is disabled")
            })
            .map(|_| ())
            .map_err(|e| e.to_string())
        })
        .await
        .map_err(|e| e.to_string())?;
    };
    let timestamp = now.and_utc().timestamp();
    let signature = signature_header(
        &endpoint.signing_secrets(now),
        &delivery.event_id,
        timestamp,
        &delivery.payload,
    );
    let headers = vec![
        ("webhook-id", delivery.event_id.clone()),
        ("webhook-timestamp", timestamp.to_string()),
        ("webhook-signature", signature),
    ];
    let outcome = attempt(
        &endpoint.url,
        services.config.webhooks_allow_loopback,
        &headers,
        &delivery.payload,
    )
    .await;
    let services = services.clone();
    tokio::task::spawn_blocking(move || {
        let mut conn = services.pool.get().map_err(|e| e.to_string())?;
        db::write(&mut conn, |c| {
            settle(c, &services, &endpoint, &delivery, &outcome, now)
        })
        .map_err(|e: AppError| e.to_string())
    })
    .await
    .map_err(|e| e.to_string())?
}

/// Records an attempt: the delivery succeeded, is retried on the schedule, or (3 days old)
/// failed; an endpoint failing for 5 days is disabled and its admins told.
fn settle(
    conn: &mut DbConnection,
    services: &Services,
    endpoint: &WebhookEndpoint,
    delivery: &WebhookDelivery,
    outcome: &Outcome,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    let duration_ms = outcome.duration.as_millis().min(i64::MAX as u128) as i64;
    let status_code = outcome.status_code.map(i32::from);
    if outcome.succeeded() {
        deliveries::record_attempt(
            conn,
            &delivery.id,
            &Attempt {
                at: now,
                status_code,
                duration_ms,
                error: None,
                status: deliveries::SUCCEEDED,
                next_attempt_at: None,
            },
        )?;
        endpoints::note_success(conn, &endpoint.id)?;
        return Ok(());
    }
    let error = outcome
        .error
        .clone()
        .or_else(|| status_code.map(|s| format!("the endpoint answered {s}")));
    let attempts = delivery.attempts + 1;
    let next = now + TimeDelta::seconds(rules::retry_delay_secs(attempts));
    let give_up = next > delivery.created_at + TimeDelta::seconds(rules::RETRY_WINDOW_SECS);
    deliveries::record_attempt(
        conn,
        &delivery.id,
        &Attempt {
            at: now,
            status_code,
            duration_ms,
            error: error.as_deref(),
            status: if give_up {
                deliveries::FAILED
            } else {
                deliveries::PENDING
            },
            next_attempt_at: (!give_up).then_some(next),
        },
    )?;
    endpoints::note_failure(conn, &endpoint.id, now)?;
    let failing_since = endpoints::get(conn, &endpoint.id)?
        .and_then(|e| e.failing_since)
        .unwrap_or(now);
    if now - failing_since >= TimeDelta::seconds(rules::DISABLE_AFTER_SECS)
        && endpoints::disable(conn, &endpoint.id, "every delivery failed for 5 days", now)?
    {
        tell_admins(conn, services, endpoint, failing_since)?;
    }
    Ok(())
}

/// The organisation's admins and legal representatives hear that an endpoint was disabled.
fn tell_admins(
    conn: &mut DbConnection,
    services: &Services,
    endpoint: &WebhookEndpoint,
    failing_since: NaiveDateTime,
) -> Result<(), AppError> {
    let Some(org) = crate::models::organizations::find(conn, &endpoint.organization_id)? else {
        return Ok(());
    };
    for r in crate::models::product_lifecycle::members(conn, &endpoint.organization_id)? {
        if !r.is_admin() {
            continue;
        }
        crate::mail::send(
            conn,
            &services.config,
            "webhook_endpoint_disabled",
            &r.language,
            &r.email,
            serde_json::json!({
                "first_name": r.first_name,
                "organization_name": org.name,
                "url": endpoint.url,
                "endpoint_id": endpoint.id,
                "failing_since": failing_since.format("%Y-%m-%d %H:%M UTC").to_string(),
            }),
        )?;
    }
    Ok(())
}

/// One POST to `url`, its address checked again; never follows a redirect.
pub async fn attempt(
    url: &str,
    allow_loopback: bool,
    headers: &[(&str, String)],
    body: &str,
) -> Outcome {
    let started = Instant::now();
    let result = tokio::time::timeout(ATTEMPT_TIMEOUT, async {
        let target = parse_url(url, allow_loopback)
            .map_err(|_| "the endpoint's URL is no longer allowed".to_string())?;
        let addr = resolve_checked(&target.host, target.port, allow_loopback).await?;
        post(&target, addr, headers, body).await
    })
    .await;
    let (status_code, error) = match result {
        Ok(Ok(status)) => (Some(status), None),
        Ok(Err(e)) => (None, Some(e)),
        Err(_) => (None, Some("timed out after 10 seconds".to_string())),
    };
    Outcome {
        status_code,
        error,
        duration: started.elapsed(),
    }
}

fn tls_config() -> Arc<rustls::ClientConfig> {
    static CONFIG: OnceLock<Arc<rustls::ClientConfig>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let roots = rustls::RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            };
            let config = rustls::ClientConfig::builder_with_provider(Arc::new(
                rustls::crypto::ring::default_provider(),
            ))
            .with_safe_default_protocol_versions()
            .expect("the ring provider supports the default TLS versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
            Arc::new(config)
        })
        .clone()
}

/// POSTs `body` to `addr` (the checked address of `target`), reads at most 64 KiB of the
/// answer and returns its status.
async fn post(
    target: &Target,
    addr: SocketAddr,
    headers: &[(&str, String)],
    body: &str,
) -> Result<u16, String> {
    let stream = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|e| format!("connecting to {addr}: {e}"))?;
    if target.https {
        let name = rustls::pki_types::ServerName::try_from(target.host.clone())
            .map_err(|e| format!("{}: {e}", target.host))?;
        let tls = tokio_rustls::TlsConnector::from(tls_config())
            .connect(name, stream)
            .await
            .map_err(|e| format!("TLS with {}: {e}", target.host))?;
        exchange(tls, target, headers, body).await
    } else {
        exchange(stream, target, headers, body).await
    }
}

async fn exchange<S>(
    io: S,
    target: &Target,
    headers: &[(&str, String)],
    body: &str,
) -> Result<u16, String>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    use http_body_util::BodyExt as _;

    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(io))
            .await
            .map_err(|e| format!("HTTP handshake: {e}"))?;
    let driver = tokio::spawn(connection);
    // An IPv6 literal is bracketed in `Host`, with or without its port (RFC 9110 §7.2).
    let name = if target.host.contains(':') {
        format!("[{}]", target.host)
    } else {
        target.host.clone()
    };
    let host = match (target.https, target.port) {
        (true, 443) | (false, 80) => name,
        (_, port) => format!("{name}:{port}"),
    };
    let mut request = hyper::Request::post(target.path.as_str())
        .header(hyper::header::HOST, host)
        .header(hyper::header::CONTENT_TYPE, "application/json")
        .header(hyper::header::USER_AGENT, "Leman-Webhooks/1")
        .header(hyper::header::CONNECTION, "close");
    for (name, value) in headers {
        request = request.header(*name, value.as_str());
    }
    let request = request
        .body(http_body_util::Full::new(hyper::body::Bytes::from(
            body.to_string(),
        )))
        .map_err(|e| e.to_string())?;
    let result = async {
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| format!("sending: {e}"))?;
        let status = response.status().as_u16();
        let mut answer = response.into_body();
        let mut read = 0usize;
        while read < MAX_RESPONSE_BYTES {
            match answer.frame().await {
                Some(Ok(frame)) => {
                    if let Some(data) = frame.data_ref() {
                        read += data.len();
                    }
                }
                Some(Err(_)) | None => break,
            }
        }
        Ok(status)
    }
    .await;
    driver.abort();
    result
}
