//! Who is on the other end of the connection: IP and user agent, for sessions, alerts and the
//! activity record.

use std::future::{Ready, ready};

use actix_web::{FromRequest, HttpRequest, dev::Payload};

#[derive(Debug, Clone, Default)]
pub struct RequestMeta {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// The client's IP: the peer address, or — only when `LEMAN_TRUST_PROXY` says a proxy in front
/// sets them — the first address of `Forwarded` / `X-Forwarded-For` (a client could forge those
/// headers if nothing stripped them).
pub fn client_ip(req: &HttpRequest) -> Option<String> {
    let trusted = req
        .app_data::<actix_web::web::Data<crate::config::Config>>()
        .is_some_and(|c| c.trust_proxy);
    if trusted && let Some(forwarded) = req.connection_info().realip_remote_addr() {
        let host = forwarded.trim();
        // "1.2.3.4", "1.2.3.4:5678", "[::1]:5678" or "::1".
        let ip = if let Some(rest) = host.strip_prefix('[') {
            rest.split(']').next().unwrap_or(rest).to_string()
        } else if host.matches(':').count() == 1 {
            host.split(':').next().unwrap_or(host).to_string()
        } else {
            host.to_string()
        };
        if ip.parse::<std::net::IpAddr>().is_ok() {
            return Some(ip);
        }
    }
    req.peer_addr().map(|a| a.ip().to_string())
}

impl RequestMeta {
    pub fn from_request(req: &HttpRequest) -> Self {
        let ip = client_ip(req);
        let user_agent = req
            .headers()
            .get(actix_web::http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|ua| ua.chars().take(512).collect());
        Self { ip, user_agent }
    }

    /// "Firefox on Linux" style description of the user agent.
    pub fn device(&self) -> String {
        describe_user_agent(self.user_agent.as_deref())
    }
}

pub fn describe_user_agent(user_agent: Option<&str>) -> String {
    let Some(ua) = user_agent.filter(|u| !u.is_empty()) else {
        return "Unknown device".into();
    };
    match woothee::parser::Parser::new().parse(ua) {
        Some(r) if r.name != "UNKNOWN" => {
            let os = if r.os == "UNKNOWN" {
                String::new()
            } else {
                format!(" on {}", r.os)
            };
            format!("{}{os}", r.name)
        }
        _ => ua.chars().take(60).collect(),
    }
}

impl FromRequest for RequestMeta {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(RequestMeta::from_request(req)))
    }
}
