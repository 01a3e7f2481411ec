use actix_web::{HttpResponse, post, web};

use crate::context::Services;
use crate::domain::actor::Origin;
use crate::domain::ids::OrderId;
use crate::error::AppError;
use crate::error::responses::{Charge, Common, JsonBody, OrgAccess, Unauthenticated};
use crate::http::Json;
use crate::http::org::{AccountingWrites, InOrg, Requirement};
use crate::services::orders;
use crate::services::payments::{Outcome, PaymentInput};
use crate::views::payments::PaymentView;

/// Pay an open order
///
/// Pay an open order: from the prepaid account or a card at once (201), or through a method the
/// provider confirms later, or a bank transfer (202, `pending`). Paying provisions the order's
/// products. Holders of `accounting`. Send an `Idempotency-Key`: a retry never pays twice, and
/// concurrent payments of one order charge once. Tokens need `billing:write`.
#[utoipa::path(
    operation_id = "pay_order",
    tag = "billing",
    security(("bearer_jwt" = []), ("personal_token" = [])),
    params(("org_id" = String, Path, description = "The organisation's id (`org_…`)", example = "org_01936d7a6b2f7c3e9d4a5b6c7d8e9f00"), ("order_id" = String, Path, description = "The order's id (`ord_…`)", example = "ord_01936d7a6b2f7c3e9d4a5b6c7d8e9f11")),
    extensions(("x-leman-permission" = json!(AccountingWrites::NEED)), ("x-leman-scope" = json!(AccountingWrites::SCOPE))),
    request_body = PaymentInput,
    responses(
        (status = 201, description = "Paid", body = PaymentView),
        (status = 202, description = "Waiting for the provider's confirmation (or the bank transfer)", body = PaymentView),
        Unauthenticated,
        OrgAccess,
        Charge,
        JsonBody,
        Common,
    )
)]
#[post("/orgs/{org_id}/orders/{order_id}/payments")]
pub async fn pay_order(
    org: InOrg<AccountingWrites>,
    services: web::Data<Services>,
    meta: Origin,
    path: web::Path<(String, String)>,
    body: Json<PaymentInput>,
) -> Result<HttpResponse, AppError> {
    let order_id = OrderId::parse(&path.1)?;
    Ok(
        match orders::pay(&services, meta, &org, order_id, body.0).await? {
            Outcome::Succeeded(p) => HttpResponse::Created().json(PaymentView::from(&p)),
            Outcome::Pending(p) => HttpResponse::Accepted().json(PaymentView::from(&p)),
        },
    )
}
