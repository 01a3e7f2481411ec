use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::utc;
use crate::models::api_tokens::ApiToken;

pub use crate::domain::scopes::{Scope, TokenKind};

/// A personal or application token. Its secret is never shown again after creation; `prefix`
/// (its first 8 characters) helps recognise it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "tok_01936d7a6b2f7c3e9d4a5b6c7d8e9f00", "name": "Deploy script", "kind": "personal",
    "scopes": ["account:read", "domains:write"], "prefix": "lmn_Vb3q",
    "created_at": "2026-11-26T09:00:00Z", "expires_at": "2027-11-26T00:00:00Z", "last_used_at": null
}))]
pub struct ApiTokenView {
    pub id: String,
    pub name: String,
    pub kind: TokenKind,
    pub scopes: Vec<Scope>,
    /// The first 8 characters of the secret.
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    /// After this instant the token no longer works; `null`: it does not expire.
    pub expires_at: Option<DateTime<Utc>>,
    /// When the token was last used (to the minute); `null`: never.
    pub last_used_at: Option<DateTime<Utc>>,
}

impl From<&ApiToken> for ApiTokenView {
    fn from(t: &ApiToken) -> Self {
        Self {
            id: t.id.clone(),
            name: t.name.clone(),
            kind: TokenKind::from_db(&t.kind),
            scopes: Scope::list_from_db(&t.scopes),
            prefix: t.prefix.clone(),
            created_at: utc(t.created_at),
            expires_at: t.expires_at.map(utc),
            last_used_at: t.last_used_at.map(utc),
        }
    }
}

/// A page of the caller's tokens, newest first.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"data": [{
    "id": "tok_01936d7a6b2f7c3e9d4a5b6c7d8e9f00", "name": "Deploy script", "kind": "personal",
    "scopes": ["account:read", "domains:write"], "prefix": "lmn_Vb3q",
    "created_at": "2026-11-26T09:00:00Z", "expires_at": null, "last_used_at": "2026-11-26T10:12:00Z"
}], "next_cursor": null}))]
pub struct ApiTokenList {
    pub data: Vec<ApiTokenView>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// A new token, with its secret: shown this once, never again.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "tok_01936d7a6b2f7c3e9d4a5b6c7d8e9f00", "name": "Deploy script", "kind": "personal",
    "scopes": ["account:read", "domains:write"], "prefix": "lmn_Vb3q",
    "created_at": "2026-11-26T09:00:00Z", "expires_at": "2027-11-26T00:00:00Z", "last_used_at": null,
    "secret": "lmn_Vb3q3yO2kq1cO1u7W4dD2m8kq0x5r2T9yJrM3gS6pQ8"
}))]
pub struct CreatedApiToken {
    #[serde(flatten)]
    pub token: ApiTokenView,
    /// Send as `Authorization: Bearer <secret>`. Store it now: it is not kept.
    pub secret: String,
}
