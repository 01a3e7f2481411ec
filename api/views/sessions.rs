use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::utc;
use crate::http::meta::describe_user_agent;
use crate::models::sessions::Session;

/// One signed-in device of the caller's connection log.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "ses_01936d7a6b2f7c3e9d4a5b6c7d8e9f00", "device": "Firefox on Linux", "browser": "Firefox",
    "os": "Linux", "ip": "203.0.113.7", "created_at": "2026-11-26T09:00:00Z",
    "last_seen_at": "2026-11-26T09:42:00Z", "current": true
}))]
pub struct SessionView {
    pub id: String,
    /// Browser and system in a few words, from the user agent (`Unknown device` without one).
    pub device: String,
    /// The browser, when the user agent names one.
    pub browser: Option<String>,
    /// The operating system, when the user agent names one.
    pub os: Option<String>,
    /// The address the session signed in from.
    pub ip: Option<String>,
    /// When the session signed in.
    pub created_at: DateTime<Utc>,
    /// Last activity (updated at most once a minute).
    pub last_seen_at: DateTime<Utc>,
    /// True for the session making this request (always false for a token).
    pub current: bool,
}

fn known(value: &str) -> Option<String> {
    (!value.is_empty() && value != woothee::woothee::VALUE_UNKNOWN).then(|| value.to_string())
}

/// The browser and operating system named by a user agent, each when recognised.
pub fn browser_and_os(user_agent: Option<&str>) -> (Option<String>, Option<String>) {
    match user_agent
        .filter(|ua| !ua.is_empty())
        .and_then(|ua| woothee::parser::Parser::new().parse(ua))
    {
        Some(r) => (known(r.name), known(r.os)),
        None => (None, None),
    }
}

impl SessionView {
    pub fn new(session: &Session, current: Option<&str>) -> Self {
        let (browser, os) = browser_and_os(session.user_agent.as_deref());
        SessionView {
            id: session.id.clone(),
            device: describe_user_agent(session.user_agent.as_deref()),
            browser,
            os,
            ip: session.ip.clone(),
            created_at: utc(session.created_at),
            last_seen_at: utc(session.last_seen_at),
            current: current == Some(session.id.as_str()),
        }
    }
}

/// The caller's active sessions, newest first.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"data": [
    {"id": "ses_01936d7a6b2f7c3e9d4a5b6c7d8e9f00", "device": "Firefox on Linux", "browser": "Firefox", "os": "Linux", "ip": "203.0.113.7", "created_at": "2026-11-26T09:00:00Z", "last_seen_at": "2026-11-26T09:42:00Z", "current": true},
    {"id": "ses_01936c1f0a2b7d4e8c9a0b1c2d3e4f50", "device": "Safari on iPhone", "browser": "Safari", "os": "iPhone", "ip": "198.51.100.23", "created_at": "2026-11-25T18:12:00Z", "last_seen_at": "2026-11-25T18:30:00Z", "current": false}
]}))]
pub struct SessionList {
    pub data: Vec<SessionView>,
}
