//! Who is on the other end of the connection: IP and user agent, for sessions, alerts and the
//! activity record.

use std::future::{Ready, ready};

use actix_web::{FromRequest, HttpRequest, dev::Payload};

pub use crate::domain::actor::{Origin, describe_user_agent};

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

/// The origin of a request: its client's address and user agent.
pub fn origin_of(req: &HttpRequest) -> Origin {
    let user_agent = req
        .headers()
        .get(actix_web::http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|ua| ua.chars().take(512).collect());
    Origin::request(client_ip(req), user_agent)
}

impl FromRequest for Origin {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(origin_of(req)))
    }
}
