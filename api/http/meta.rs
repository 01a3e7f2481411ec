//! Who is on the other end of the connection: IP and user agent, for sessions, alerts and the
//! activity record.

use std::future::{Ready, ready};

use actix_web::{FromRequest, HttpRequest, dev::Payload};

#[derive(Debug, Clone, Default)]
pub struct RequestMeta {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

impl RequestMeta {
    pub fn from_request(req: &HttpRequest) -> Self {
        // The peer address: a proxy in front must be trusted explicitly, never by default.
        let ip = req.peer_addr().map(|a| a.ip().to_string());
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
