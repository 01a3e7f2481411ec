//! The organisation's billing settings (R27): `/v1/orgs/{org_id}/billing-settings`.

pub mod get_billing_settings;
pub mod update_billing_settings;

use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(get_billing_settings::get_billing_settings)
        .service(update_billing_settings::update_billing_settings);
}
