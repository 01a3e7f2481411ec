//! `Caller`: who makes an authenticated request. A bearer access token (JWT) is checked against
//! its session on every request, in one indexed query that also loads the user, so ending a
//! session takes effect at once. A personal or application token (`lmn_…`) is looked up by hash.

use crate::domain::scopes::TokenKind;
use crate::error::Status;
use actix_web::http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use actix_web::{FromRequest, HttpMessage, HttpRequest, dev::Payload, web};
use chrono::NaiveDateTime;
use futures_util::future::LocalBoxFuture;

use super::jwt;
use super::keys::KeySet;
use super::two_factor_gate;
use crate::db::{self, Pool};
use crate::error::AppError;
use crate::models::users::CallerUser;
use crate::models::{api_tokens, sessions};

/// How long after a login or re-authentication sensitive actions stay allowed.
pub const RECENT_AUTH_MINUTES: i64 = 5;

#[derive(Debug, Clone)]
pub enum CallerAuth {
    Session {
        session_id: String,
        authenticated_at: NaiveDateTime,
    },
    Token {
        token_id: String,
        kind: String,
        scopes: Vec<crate::domain::scopes::Scope>,
    },
}

#[derive(Debug, Clone)]
pub struct Caller {
    pub user_id: String,
    /// The account, loaded with the session or token in one query.
    pub account: CallerUser,
    pub auth: CallerAuth,
    /// The account has no 2FA while an organisation it belongs to requires it.
    pub two_factor_required: bool,
}

pub fn unauthenticated(detail: &str) -> AppError {
    AppError::new(Status::Unauthorized, "unauthenticated", detail)
        .with_header(WWW_AUTHENTICATE, "Bearer")
}

impl Caller {
    pub fn session_id(&self) -> Option<&str> {
        match &self.auth {
            CallerAuth::Session { session_id, .. } => Some(session_id),
            CallerAuth::Token { .. } => None,
        }
    }

    /// The user as if freshly signed in, for operator commands (`leman demo-data`) that act
    /// through the same services as the API.
    pub fn acting_as(account: CallerUser) -> Self {
        Caller {
            user_id: account.id.clone(),
            account,
            auth: CallerAuth::Session {
                session_id: "cli".into(),
                authenticated_at: db::now(),
            },
            two_factor_required: false,
        }
    }

    pub fn full_name(&self) -> String {
        format!("{} {}", self.account.first_name, self.account.last_name)
    }

    pub fn two_factor_enabled(&self) -> bool {
        self.account.totp_enabled_at.is_some()
    }

    /// Sensitive actions need a person in a session who authenticated within the last 5 minutes.
    pub fn require_recent_auth(&self) -> Result<&str, AppError> {
        match &self.auth {
            CallerAuth::Session {
                session_id,
                authenticated_at,
            } if *authenticated_at + chrono::Duration::minutes(RECENT_AUTH_MINUTES)
                >= db::now() =>
            {
                Ok(session_id)
            }
            CallerAuth::Session { .. } => Err(AppError::new(
                Status::Forbidden,
                "reauthentication_required",
                "This action needs a recent authentication: POST /v1/auth/reauthenticate, then retry.",
            )),
            CallerAuth::Token { .. } => Err(AppError::new(
                Status::Forbidden,
                "reauthentication_required",
                "Tokens cannot perform sensitive actions; sign in as a person to do this.",
            )),
        }
    }

    /// What the caller may touch: a session holds every scope; a personal or application token
    /// only the scopes it was given (`<area>:write` implies `<area>:read`), else 403
    /// `insufficient_scope`.
    pub fn require_scope(&self, scope: crate::domain::scopes::Scope) -> Result<(), AppError> {
        match &self.auth {
            CallerAuth::Session { .. } => Ok(()),
            CallerAuth::Token { scopes, .. } if crate::domain::scopes::grants(scopes, scope) => {
                Ok(())
            }
            CallerAuth::Token { .. } => Err(AppError::new(
                Status::Forbidden,
                "insufficient_scope",
                format!("This token lacks the `{scope}` scope."),
            )),
        }
    }

    async fn authenticate(req: HttpRequest) -> Result<Caller, AppError> {
        let header = req
            .headers()
            .get(AUTHORIZATION)
            .ok_or_else(|| unauthenticated("Send `Authorization: Bearer <token>`."))?;
        let token = header
            .to_str()
            .ok()
            .and_then(|h| {
                h.strip_prefix("Bearer ")
                    .or_else(|| h.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| unauthenticated("The Authorization header must be `Bearer <token>`."))?;
        let pool = req
            .app_data::<web::Data<Pool>>()
            .ok_or_else(|| AppError::internal("no pool"))?
            .get_ref()
            .clone();
        if token.starts_with("lmn_") {
            let hash = super::secrets::hash(token);
            let found = db::run(&pool, move |conn| {
                Ok(api_tokens::active_caller(conn, &hash)?)
            })
            .await?;
            let row = found
                .ok_or_else(|| unauthenticated("The token is unknown, revoked or expired."))?;
            let now = db::now();
            if row
                .last_used_at
                .is_none_or(|t| t < now - chrono::Duration::minutes(1))
            {
                let (pool, id) = (pool.clone(), row.token_id.clone());
                actix_web::rt::spawn(async move {
                    let _ = db::run(&pool, move |c| {
                        Ok(db::write(c, |c| api_tokens::touch(c, &id, now))?)
                    })
                    .await;
                });
            }
            let scopes = crate::domain::scopes::Scope::list_from_db(&row.scopes);
            // Desktop and mobile apps keep working without 2FA (R20); scripts do not.
            let blocked = row.two_factor_required && row.user.totp_enabled_at.is_none();
            if blocked && TokenKind::from_db(&row.kind) != TokenKind::Application {
                gate(&req)?;
            }
            return Ok(Caller {
                user_id: row.user.id.clone(),
                account: row.user,
                auth: CallerAuth::Token {
                    token_id: row.token_id,
                    kind: row.kind,
                    scopes,
                },
                two_factor_required: blocked,
            });
        }
        let keys = req
            .app_data::<web::Data<KeySet>>()
            .ok_or_else(|| AppError::internal("no keys"))?;
        let claims = jwt::decode_cached(keys, token)
            .map_err(|e| unauthenticated(&format!("The access token is not valid ({e}).")))?;
        let found = db::run(&pool, move |conn| {
            Ok(sessions::active_caller(conn, &claims.sid, &claims.sub)?)
        })
        .await?;
        let row = found.ok_or_else(|| unauthenticated("The session has ended; sign in again."))?;
        let now = db::now();
        if row.stale {
            let (pool, sid) = (pool.clone(), row.session_id.clone());
            actix_web::rt::spawn(async move {
                let _ = db::run(&pool, move |c| {
                    Ok(db::write(c, |c| sessions::touch(c, &sid, now))?)
                })
                .await;
            });
        }
        let blocked = row.two_factor_required && row.user.totp_enabled_at.is_none();
        if blocked {
            gate(&req)?;
        }
        Ok(Caller {
            user_id: row.user.id.clone(),
            account: row.user,
            auth: CallerAuth::Session {
                session_id: row.session_id,
                authenticated_at: row.authenticated_at,
            },
            two_factor_required: blocked,
        })
    }
}

/// Refuses a caller blocked by an organisation's 2FA requirement, unless the route is exempt.
fn gate(req: &HttpRequest) -> Result<(), AppError> {
    let pattern = req.match_pattern().unwrap_or_default();
    if two_factor_gate::exempt(req.method().as_str(), &pattern) {
        Ok(())
    } else {
        Err(two_factor_gate::refusal())
    }
}

impl FromRequest for Caller {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        // Already checked for this request (the idempotency middleware does, before a replay):
        // one caller query per request.
        if let Some(caller) = req.extensions().get::<Caller>().cloned() {
            return Box::pin(std::future::ready(Ok(caller)));
        }
        Box::pin(Caller::authenticate(req.clone()))
    }
}
