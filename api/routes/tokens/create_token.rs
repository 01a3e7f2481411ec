use actix_web::{HttpResponse, post, web};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::context::Services;
use crate::domain::actor::Origin;
use crate::error::AppError;
use crate::error::responses::{Common, JsonBody, Reauthenticate, Unauthenticated};
use crate::http::Json;
use crate::services::tokens::{self, NewToken};
use crate::views::tokens::{ApiTokenView, CreatedApiToken, Scope, TokenKind};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Deploy script", "kind": "personal", "scopes": ["account:read", "domains:write"], "expires_at": "2027-11-26T00:00:00Z"}))]
pub struct CreateToken {
    /// 1 to 100 characters, to recognise the token by: spaces around it are trimmed, and
    /// control characters (line breaks, tabs) are refused (`invalid_characters`).
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    pub kind: TokenKind,
    /// At least one. `<area>:write` implies `<area>:read`.
    #[schema(value_type = Vec<Scope>, min_items = 1)]
    pub scopes: Vec<String>,
    /// When the token stops working (RFC 3339, in the future); omitted: never.
    pub expires_at: Option<DateTime<Utc>>,
}

/// Create a personal or application token
///
/// The secret is in this answer only: it is stored hashed. A sensitive action: a person in a
/// session that authenticated within the last 5 minutes (tokens cannot create tokens).
#[utoipa::path(
    operation_id = "create_token",
    tag = "tokens",
    security(("bearer_jwt" = [])),
    request_body = CreateToken,
    responses(
        (status = 201, description = "The token, with its secret shown this once", body = CreatedApiToken, headers(("Cache-Control" = String, description = "`no-store`: the secret is shown once, kept by no cache, and an `Idempotency-Key` never replays it"))),
        Unauthenticated,
        Reauthenticate,
        JsonBody,
        Common,
    )
)]
#[post("/me/tokens")]
pub async fn create_token(
    caller: Caller,
    services: web::Data<Services>,
    meta: Origin,
    body: Json<CreateToken>,
) -> Result<HttpResponse, AppError> {
    let b = body.0;
    let input = NewToken {
        name: b.name,
        kind: b.kind.as_str(),
        scopes: b.scopes,
        expires_at: b.expires_at,
    };
    let (token, secret) = tokens::create(&services.pool, meta, caller, input).await?;
    // no-store: neither caches nor the idempotency store may keep the secret.
    Ok(HttpResponse::Created()
        .insert_header(("Cache-Control", "no-store"))
        .json(CreatedApiToken {
            token: ApiTokenView::from(&token),
            secret,
        }))
}
