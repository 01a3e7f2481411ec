use std::collections::BTreeMap;

use actix_web::{HttpResponse, patch, web};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::context::Services;
use crate::domain::actor::Origin;
use crate::domain::ids::ProductId;
use crate::domain::scopes::Scope;
use crate::error::AppError;
use crate::error::responses::{Busy, Common, JsonBody, OrgAccess, Unauthenticated};
use crate::http::Json;
use crate::http::org::{InOrg, ProductsAndAccountingWrite, Requirement};
use crate::services::product_changes::{self, ChangeInput, Outcome};
use crate::views::orders::OrderView;
use crate::views::products::ProductChangeView;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"billing_period": "P1Y"}))]
pub struct UpdateProduct {
    /// The billing period from the term's end: one of the offer's periods whose price reaches
    /// the catalogue's minimum for it (R37).
    #[schema(example = "P1M", max_length = 10)]
    pub billing_period: Option<String>,
    /// New quantities of the offer's options (those omitted stay), from what the offer
    /// includes to its maximum. More is ordered now for the rest of the term (R42); fewer
    /// applies at the next term (never for upgrade-only offers such as kSuite).
    #[schema(example = json!({"users": 25}))]
    pub options: Option<BTreeMap<String, i64>>,
}

/// Change a product's billing period or options
///
/// A new **billing period** (R37, R38) must be one the offer has, and the product's price for it
/// (the offer and the options beyond what it includes, before VAT) must reach the catalogue's
/// minimum for that period (`period_below_minimum` names it). It applies at the term's end, for
/// the next renewal — asked inside the term's last month or earlier, the months already paid
/// are never billed again; the answer says when (`effective_at`). Asking for the current period
/// clears a scheduled one.
///
/// More **options** (R42) make an order for the prorated difference until the term's end (each
/// option's price difference for one period × the remaining days / the term's days, rounded to
/// the cent): 202 with the order, whose invoice is paid with `pay_order`; the options change
/// once it is paid (an unpaid order lapses with the change). Nothing left to pay: applied at once.
/// Fewer options apply at the next term, except for upgrade-only offers (kSuite-type: 409
/// `downgrade_not_allowed`). Only an active product changes, and not a product included in a
/// bundle. Holders of both `products` and `accounting`. Tokens need `products:write` and
/// `billing:write`.
#[utoipa::path(
    operation_id = "update_product",
    tag = "billing",
    security(("bearer_jwt" = []), ("personal_token" = ["products:write", "billing:write"])),
    params(("org_id" = String, Path, description = "The organisation's id (`org_…`)", example = "org_01936d7a6b2f7c3e9d4a5b6c7d8e9f00"), ("product_id" = String, Path, description = "The product's id (`prd_…`)", example = "prd_01936d7a6b2f7c3e9d4a5b6c7d8e9f10")),
    extensions(("x-leman-permission" = json!(ProductsAndAccountingWrite::NEED))),
    request_body = UpdateProduct,
    responses(
        (status = 200, description = "Recorded for the term's end (or applied at once when nothing is left to pay)", body = ProductChangeView),
        (status = 202, description = "More options: the order to pay for the rest of the term, with its invoice", body = OrderView),
        Unauthenticated,
        OrgAccess,
        (status = 409, description = "The product is not active (`product_not_changeable`), is included in a bundle (`bundled_product`), its offer only goes up (`downgrade_not_allowed`), or an upgrade already waits for payment (`change_pending`)", body = crate::error::Problem, content_type = "application/problem+json", examples(
            ("product_not_changeable" = (summary = "Not active", value = json!({"type": "urn:leman:problem:product_not_changeable", "title": "Conflict", "status": 409, "detail": "This product is pending_payment: only an active product can change.", "code": "product_not_changeable"}))),
            ("bundled_product" = (summary = "In a bundle", value = json!({"type": "urn:leman:problem:bundled_product", "title": "Conflict", "status": 409, "detail": "This product is included in the bundle prd_01936d7a6b2f7c3e9d4a5b6c7d8e9f10: change or move the bundle.", "code": "bundled_product"}))),
            ("downgrade_not_allowed" = (summary = "Upgrade only", value = json!({"type": "urn:leman:problem:downgrade_not_allowed", "title": "Conflict", "status": 409, "detail": "kSuite Pro only goes up: options cannot be decreased, now or at the next term.", "code": "downgrade_not_allowed"}))),
            ("change_pending" = (summary = "An upgrade waits", value = json!({"type": "urn:leman:problem:change_pending", "title": "Conflict", "status": 409, "detail": "An upgrade of this product waits for its order to be paid: pay it, or let it lapse.", "code": "change_pending"}))),
        )),
        JsonBody,
        Busy,
        Common,
    )
)]
#[patch("/orgs/{org_id}/products/{product_id}")]
pub async fn update_product(
    org: InOrg<ProductsAndAccountingWrite>,
    services: web::Data<Services>,
    meta: Origin,
    path: web::Path<(String, String)>,
    body: Json<UpdateProduct>,
) -> Result<HttpResponse, AppError> {
    // As for orders: an upgrade orders, so a token also needs `products:write`.
    org.caller.require_scope(Scope::ProductsWrite)?;
    let product_id = ProductId::parse(&path.1)?;
    let b = body.0;
    let input = ChangeInput {
        billing_period: b.billing_period,
        options: b.options,
    };
    Ok(
        match product_changes::update(&services, meta, &org, product_id, input).await? {
            Outcome::Changed {
                product,
                effective_at,
                within_last_month,
            } => HttpResponse::Ok().json(ProductChangeView::new(
                &product,
                &services.catalog,
                effective_at,
                within_last_month,
            )),
            Outcome::Ordered { order, product } => {
                HttpResponse::Accepted().json(OrderView::new(&order, &[product], None))
            }
        },
    )
}
