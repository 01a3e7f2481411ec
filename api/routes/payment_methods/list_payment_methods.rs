use actix_web::{HttpResponse, get, web};

use crate::context::Services;
use crate::domain::money::Money;
use crate::domain::orgs::Currency;
use crate::error::AppError;
use crate::error::responses::{Common, OrgAccess, Unauthenticated};
use crate::http::org::{AccountingReads, InOrg, Requirement};
use crate::services::payment_methods;
use crate::views::payments::{PaymentMethodList, PaymentMethodView};

/// List the organisation's payment methods
///
/// The ways the organisation pays (R29): its prepaid account (always there, id `prepaid`),
/// then its saved methods, the default one marked. Holders of `accounting`. Tokens need
/// `billing:read`.
#[utoipa::path(
    operation_id = "list_payment_methods",
    tag = "billing",
    security(("bearer_jwt" = []), ("personal_token" = [])),
    params(("org_id" = String, Path, description = "The organisation's id (`org_…`)", example = "org_01936d7a6b2f7c3e9d4a5b6c7d8e9f00")),
    extensions(("x-leman-permission" = json!(AccountingReads::NEED)), ("x-leman-scope" = json!(AccountingReads::SCOPE))),
    responses(
        (status = 200, description = "The payment methods", body = PaymentMethodList),
        Unauthenticated,
        OrgAccess,
        Common,
    )
)]
#[get("/orgs/{org_id}/payment-methods")]
pub async fn list_payment_methods(
    org: InOrg<AccountingReads>,
    services: web::Data<Services>,
) -> Result<HttpResponse, AppError> {
    let (org, methods, balance) = payment_methods::list(&services.pool, &org).await?;
    let default = org.default_payment_method.as_deref();
    let mut data = vec![PaymentMethodView::prepaid(
        Money::from_minor(balance, Currency::from_code(&org.currency)),
        default == Some(payment_methods::PREPAID),
    )];
    data.extend(
        methods
            .iter()
            .map(|m| PaymentMethodView::saved(m, default == Some(m.id.as_str()))),
    );
    Ok(HttpResponse::Ok().json(PaymentMethodList { data }))
}
