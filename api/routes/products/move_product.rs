use actix_web::{HttpResponse, post, web};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::context::Services;
use crate::domain::actor::Origin;
use crate::domain::ids::ProductId;
use crate::error::AppError;
use crate::error::responses::{Busy, Common, JsonBody, OrgAccess, Unauthenticated};
use crate::http::Json;
use crate::http::org::{AdminWrites, InOrg, Requirement};
use crate::services::product_changes;
use crate::views::products::ProductView;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"organization_id": "org_01936d7a6b2f7c3e9d4a5b6c7d8e9f01"}))]
pub struct MoveProduct {
    /// The organisation to move the product to: the caller must be an admin or legal
    /// representative there too, and it must bill in the same currency.
    #[schema(example = "org_01936d7a6b2f7c3e9d4a5b6c7d8e9f01", max_length = 100)]
    pub organization_id: String,
}

/// Move a product to another organisation
///
/// Move a product to another organisation (R42), with the products its bundle includes. Its
/// invoices stay with the organisation they were issued to; its automatic renewal is turned off
/// (the card belongs to this organisation). Admins and legal representatives of both
/// organisations: another organisation the caller does not belong to is 422
/// `unknown_organization`, one where they are not an admin 403. Upgrade-only offers
/// (kSuite-type) do not move (`product_not_movable`), nor a product included in a bundle alone
/// (`bundled_product`). Tokens need `orgs:write`.
#[utoipa::path(
    operation_id = "move_product",
    tag = "billing",
    security(("bearer_jwt" = []), ("personal_token" = [])),
    params(("org_id" = String, Path, description = "The organisation's id (`org_…`)", example = "org_01936d7a6b2f7c3e9d4a5b6c7d8e9f00"), ("product_id" = String, Path, description = "The product's id (`prd_…`)", example = "prd_01936d7a6b2f7c3e9d4a5b6c7d8e9f10")),
    extensions(("x-leman-permission" = json!(AdminWrites::NEED)), ("x-leman-scope" = json!(AdminWrites::SCOPE))),
    request_body = MoveProduct,
    responses(
        (status = 200, description = "Moved: the product, now in the other organisation", body = ProductView),
        Unauthenticated,
        OrgAccess,
        (status = 409, description = "An upgrade-only offer (`product_not_movable`), a product included in a bundle (`bundled_product`), another currency (`currency_mismatch`), a product not active (`product_not_changeable`), an upgrade or a renewal waiting for payment (`change_pending`, `renewal_pending`)", body = crate::error::Problem, content_type = "application/problem+json", examples(
            ("product_not_movable" = (summary = "Upgrade only", value = json!({"type": "urn:leman:problem:product_not_movable", "title": "Conflict", "status": 409, "detail": "kSuite Pro products stay in the organisation that ordered them.", "code": "product_not_movable"}))),
            ("bundled_product" = (summary = "In a bundle", value = json!({"type": "urn:leman:problem:bundled_product", "title": "Conflict", "status": 409, "detail": "This product is included in the bundle prd_01936d7a6b2f7c3e9d4a5b6c7d8e9f10: change or move the bundle.", "code": "bundled_product"}))),
            ("currency_mismatch" = (summary = "Another currency", value = json!({"type": "urn:leman:problem:currency_mismatch", "title": "Conflict", "status": 409, "detail": "This product is billed in CHF, the other organisation in EUR.", "code": "currency_mismatch"}))),
            ("product_not_changeable" = (summary = "Not active", value = json!({"type": "urn:leman:problem:product_not_changeable", "title": "Conflict", "status": 409, "detail": "This product is pending_payment: only an active product can change.", "code": "product_not_changeable"}))),
            ("change_pending" = (summary = "An upgrade waits", value = json!({"type": "urn:leman:problem:change_pending", "title": "Conflict", "status": 409, "detail": "An upgrade of this product waits for its order to be paid: pay it, or let it lapse.", "code": "change_pending"}))),
            ("renewal_pending" = (summary = "A renewal waits", value = json!({"type": "urn:leman:problem:renewal_pending", "title": "Conflict", "status": 409, "detail": "A renewal of this product waits for its payment: pay it, or let it lapse, first.", "code": "renewal_pending"}))),
        )),
        JsonBody,
        Busy,
        Common,
    )
)]
#[post("/orgs/{org_id}/products/{product_id}/move")]
pub async fn move_product(
    org: InOrg<AdminWrites>,
    services: web::Data<Services>,
    meta: Origin,
    path: web::Path<(String, String)>,
    body: Json<MoveProduct>,
) -> Result<HttpResponse, AppError> {
    let product_id = ProductId::parse(&path.1)?;
    let p =
        product_changes::move_product(&services, meta, &org, product_id, body.0.organization_id)
            .await?;
    Ok(HttpResponse::Ok().json(ProductView::new(&p, &services.catalog)))
}
