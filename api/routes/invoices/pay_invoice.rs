use actix_web::{HttpResponse, post, web};

use crate::context::Services;
use crate::domain::actor::Origin;
use crate::domain::ids::InvoiceId;
use crate::error::AppError;
use crate::error::responses::{Charge, Common, JsonBody, OrgAccess, Unauthenticated};
use crate::http::Json;
use crate::http::org::{AccountingWrites, InOrg, Requirement};
use crate::services::payments::{self, Outcome, PaymentInput};
use crate::views::payments::PaymentView;

/// Pay an open invoice
///
/// Pay an open invoice, as `POST …/orders/{order_id}/payments` does (R31: the prepaid account
/// settles an open invoice). Holders of `accounting`. Send an `Idempotency-Key`. Tokens need
/// `billing:write`.
#[utoipa::path(
    operation_id = "pay_invoice",
    tag = "billing",
    security(("bearer_jwt" = []), ("personal_token" = [])),
    params(("org_id" = String, Path, description = "The organisation's id (`org_…`)", example = "org_01936d7a6b2f7c3e9d4a5b6c7d8e9f00"), ("invoice_id" = String, Path, description = "The invoice's id (`inv_…`)", example = "inv_01936d7a6b2f7c3e9d4a5b6c7d8e9f13")),
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
#[post("/orgs/{org_id}/invoices/{invoice_id}/payments")]
pub async fn pay_invoice(
    org: InOrg<AccountingWrites>,
    services: web::Data<Services>,
    meta: Origin,
    path: web::Path<(String, String)>,
    body: Json<PaymentInput>,
) -> Result<HttpResponse, AppError> {
    let invoice_id = InvoiceId::parse(&path.1)?;
    Ok(
        match payments::pay_invoice(&services, meta, &org, invoice_id, body.0).await? {
            Outcome::Succeeded(p) => HttpResponse::Created().json(PaymentView::from(&p)),
            Outcome::Pending(p) => HttpResponse::Accepted().json(PaymentView::from(&p)),
        },
    )
}
