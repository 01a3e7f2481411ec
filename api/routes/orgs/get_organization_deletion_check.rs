use actix_web::{HttpResponse, get, web};

use crate::context::Services;
use crate::error::AppError;
use crate::error::responses::{Common, OrgAccess, Unauthenticated};
use crate::http::org::{AdminReads, InOrg, Requirement};
use crate::services::org_deletion;
use crate::views::orgs::{DeletionCheckView, DeletionOffer};
use crate::views::prerequisites::UnmetPrerequisite;

/// Check what still blocks deleting the organisation
///
/// What still blocks deleting the organisation: each unmet condition with what to do, how
/// many objects it concerns and which (`objects`: kind, id and a label, up to 100) (R22: deletion is offered only when nothing is left). The codes:
/// `other_members`, `pending_invitations`, `products` (not cancelled), `open_invoices`,
/// `prepaid_balance` (money left to withdraw) and `payments_pending` (payments or top-ups the
/// provider has yet to confirm). `offers` lists what to do before it goes (R22):
/// `mail_paid_invoices`, the paid and refunded invoices' PDFs by mail (`create_invoice_export`
/// with the body given). Admins and legal representatives. Tokens need `orgs:read`.
#[utoipa::path(
    operation_id = "get_organization_deletion_check",
    tag = "organizations",
    security(("bearer_jwt" = []), ("personal_token" = [])),
    params(("org_id" = String, Path, description = "The organisation's id (`org_…`)", example = "org_01936d7a6b2f7c3e9d4a5b6c7d8e9f00")),
    extensions(("x-leman-permission" = json!(AdminReads::NEED)), ("x-leman-scope" = json!(AdminReads::SCOPE))),
    responses(
        (status = 200, description = "The conditions still unmet (none: it can be deleted)", body = DeletionCheckView),
        Unauthenticated,
        OrgAccess,
        Common,
    )
)]
#[get("/orgs/{org_id}/deletion-check")]
pub async fn get_organization_deletion_check(
    org: InOrg<AdminReads>,
    services: web::Data<Services>,
) -> Result<HttpResponse, AppError> {
    let unmet = org_deletion::check(&services.pool, &org).await?;
    let offers = org_deletion::offers(&services.pool, &org).await?;
    Ok(HttpResponse::Ok().json(DeletionCheckView {
        deletable: unmet.is_empty(),
        unmet: unmet.into_iter().map(UnmetPrerequisite::from).collect(),
        offers: offers.into_iter().map(DeletionOffer::from).collect(),
    }))
}
