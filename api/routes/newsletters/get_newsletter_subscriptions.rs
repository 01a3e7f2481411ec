use actix_web::{HttpResponse, get, web};

use crate::auth::Caller;
use crate::context::Services;
use crate::domain::scopes::Scope;
use crate::error::AppError;
use crate::error::responses::{Common, InsufficientScope, Unauthenticated};
use crate::services::newsletters;
use crate::views::newsletters::NewsletterSubscriptions;

/// The newsletter topics the caller receives
///
/// Tokens need `account:read`.
#[utoipa::path(
    operation_id = "get_newsletter_subscriptions",
    tag = "newsletters",
    security(("bearer_jwt" = []), ("personal_token" = ["account:read"])),
    responses(
        (status = 200, description = "The caller's topics", body = NewsletterSubscriptions),
        Unauthenticated,
        InsufficientScope,
        Common,
    )
)]
#[get("/me/newsletter-subscriptions")]
pub async fn get_newsletter_subscriptions(
    caller: Caller,
    services: web::Data<Services>,
) -> Result<HttpResponse, AppError> {
    caller.require_scope(Scope::AccountRead)?;
    let topics = newsletters::subscriptions(&services.pool, caller.user_id).await?;
    Ok(HttpResponse::Ok().json(NewsletterSubscriptions { topics }))
}
