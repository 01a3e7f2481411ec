use actix_web::{HttpResponse, put, web};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::context::Services;
use crate::domain::actor::Origin;
use crate::domain::scopes::Scope;
use crate::error::AppError;
use crate::error::responses::{Common, InsufficientScope, JsonBody, Unauthenticated};
use crate::http::Json;
use crate::services::newsletters;
use crate::views::newsletters::NewsletterSubscriptions;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"topics": ["product_news", "service_status"]}))]
pub struct UpdateNewsletterSubscriptions {
    /// Every topic to receive (ids from `GET /v1/newsletter-topics`); the ones left out are
    /// unsubscribed. Duplicates count once; `[]` unsubscribes from everything.
    #[schema(value_type = Vec<crate::views::newsletters::TopicId>)]
    pub topics: Vec<String>,
}

/// Choose the newsletter topics to receive: the set sent replaces the current one
///
/// Tokens need `account:write`.
#[utoipa::path(
    operation_id = "update_newsletter_subscriptions",
    tag = "newsletters",
    security(("bearer_jwt" = []), ("personal_token" = ["account:write"])),
    request_body = UpdateNewsletterSubscriptions,
    responses(
        (status = 200, description = "The topics now received", body = NewsletterSubscriptions),
        Unauthenticated,
        InsufficientScope,
        JsonBody,
        Common,
    )
)]
#[put("/me/newsletter-subscriptions")]
pub async fn update_newsletter_subscriptions(
    caller: Caller,
    services: web::Data<Services>,
    meta: Origin,
    body: Json<UpdateNewsletterSubscriptions>,
) -> Result<HttpResponse, AppError> {
    caller.require_scope(Scope::AccountWrite)?;
    let topics = newsletters::replace(&services.pool, meta, caller, body.0.topics).await?;
    Ok(HttpResponse::Ok().json(NewsletterSubscriptions { topics }))
}
