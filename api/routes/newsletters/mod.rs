//! Newsletter topics and the caller's subscriptions (R8).

pub mod get_newsletter_subscriptions;
pub mod list_newsletter_topics;
pub mod update_newsletter_subscriptions;

use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_newsletter_topics::list_newsletter_topics)
        .service(get_newsletter_subscriptions::get_newsletter_subscriptions)
        .service(update_newsletter_subscriptions::update_newsletter_subscriptions);
}
