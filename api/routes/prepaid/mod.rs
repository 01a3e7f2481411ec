//! The prepaid account: `/v1/orgs/{org_id}/prepaid-account`.

pub mod get_prepaid_account;
pub mod list_prepaid_transactions;
pub mod top_up_prepaid_account;
pub mod withdraw_prepaid_money;

use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(get_prepaid_account::get_prepaid_account)
        .service(list_prepaid_transactions::list_prepaid_transactions)
        .service(top_up_prepaid_account::top_up_prepaid_account)
        .service(withdraw_prepaid_money::withdraw_prepaid_money);
}
