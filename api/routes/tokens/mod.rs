//! The caller's personal and application tokens: `/v1/me/tokens`.

pub mod create_token;
pub mod list_tokens;
pub mod revoke_token;

use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_tokens::list_tokens)
        .service(create_token::create_token)
        .service(revoke_token::revoke_token);
}
