//! Where a change comes from, recorded with its activity: a request (the client's address and
//! user agent; the signed-in user is the event's actor), an operator's command (`leman refund`)
//! or Leman itself (a job, the payment provider's webhook). Services take it as a value, so jobs
//! and commands record activity as themselves, not as an empty request.

/// Who or what made a change, beyond the user id an event names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// A request through the API.
    Request,
    /// An operator's command-line command (its name).
    Operator(&'static str),
    /// Leman itself: a job or the payment provider's webhook (its name).
    System(&'static str),
}

#[derive(Debug, Clone)]
pub struct Origin {
    pub via: Via,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

impl Origin {
    pub fn request(ip: Option<String>, user_agent: Option<String>) -> Self {
        Self {
            via: Via::Request,
            ip,
            user_agent,
        }
    }

    /// A change made by the operator command `command`.
    pub fn operator(command: &'static str) -> Self {
        Self {
            via: Via::Operator(command),
            ip: None,
            user_agent: None,
        }
    }

    /// A change made by Leman itself (`what`: the job or the event source).
    pub fn system(what: &'static str) -> Self {
        Self {
            via: Via::System(what),
            ip: None,
            user_agent: None,
        }
    }

    /// "Firefox on Linux" style description of the user agent.
    pub fn device(&self) -> String {
        describe_user_agent(self.user_agent.as_deref())
    }

    /// The name an activity shows for a change nobody signed in made (None for a request).
    pub fn actor_name(&self) -> Option<String> {
        match self.via {
            Via::Request => None,
            Via::Operator(command) => Some(format!("operator ({command})")),
            Via::System(what) => Some(format!("Leman ({what})")),
        }
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
