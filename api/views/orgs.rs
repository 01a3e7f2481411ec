//! Organisations, memberships, members and invitations as the API shows them.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::utc;
use crate::domain::orgs::{BillingAddress, Currency, Permission, Role};
use crate::models::invitations::Invitation;
use crate::models::memberships::{MemberRow, Membership};
use crate::models::organizations::Organization;

/// An organisation, with the caller's role and permissions in it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "org_01936d7a6b2f7c3e9d4a5b6c7d8e9f00", "name": "Müller Design Sàrl", "country": "CH",
    "currency": "CHF",
    "billing_address": {"line1": "Rue du Rhône 12", "line2": null, "postal_code": "1204", "city": "Genève"},
    "vat_number": "CHE-123.456.789", "require_two_factor": false,
    "my_role": "legal_representative", "my_permissions": ["accounting", "products", "domains", "users"],
    "created_at": "2026-11-26T09:00:00Z"
}))]
pub struct OrganizationView {
    pub id: String,
    pub name: String,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    /// Every price and invoice of the organisation is in it.
    pub currency: Currency,
    pub billing_address: BillingAddress,
    pub vat_number: Option<String>,
    /// Members without 2FA are refused everywhere until they turn it on (or leave).
    pub require_two_factor: bool,
    pub my_role: Role,
    /// What the caller holds here (admins and legal representatives hold all).
    pub my_permissions: Vec<Permission>,
    pub created_at: DateTime<Utc>,
}

impl OrganizationView {
    pub fn new(o: &Organization, m: &Membership) -> Self {
        let grant = m.grant();
        Self {
            id: o.id.clone(),
            name: o.name.clone(),
            country: o.country.clone(),
            currency: Currency::from_code(&o.currency),
            billing_address: o.billing_address(),
            vat_number: o.vat_number.clone(),
            require_two_factor: o.require_two_factor,
            my_role: grant.role,
            my_permissions: grant.effective(),
            created_at: utc(o.created_at),
        }
    }
}

/// A page of the caller's organisations.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"data": [{
    "id": "org_01936d7a6b2f7c3e9d4a5b6c7d8e9f00", "name": "Müller Design Sàrl", "country": "CH",
    "currency": "CHF",
    "billing_address": {"line1": "Rue du Rhône 12", "line2": null, "postal_code": "1204", "city": "Genève"},
    "vat_number": null, "require_two_factor": true,
    "my_role": "member", "my_permissions": ["accounting"], "created_at": "2026-11-26T09:00:00Z"
}], "next_cursor": null}))]
pub struct OrganizationList {
    pub data: Vec<OrganizationView>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// A member of an organisation.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "user_id": "usr_01936d7a6b2f7c3e9d4a5b6c7d8e9f01", "email": "luca.rossi@example.ch",
    "first_name": "Luca", "last_name": "Rossi", "role": "member", "permissions": ["accounting"],
    "two_factor_enabled": false, "locked": false, "last_login_at": "2026-11-25T17:02:11Z",
    "joined_at": "2026-11-20T08:30:00Z"
}))]
pub struct MemberView {
    pub user_id: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub role: Role,
    /// What the member holds (admins and legal representatives hold all).
    pub permissions: Vec<Permission>,
    /// `false` is flagged in the Manager's user list (R18).
    pub two_factor_enabled: bool,
    /// Locked after too many failed sign-ins; an admin can unlock it.
    pub locked: bool,
    pub last_login_at: Option<DateTime<Utc>>,
    pub joined_at: DateTime<Utc>,
}

impl From<&MemberRow> for MemberView {
    fn from(r: &MemberRow) -> Self {
        let grant = r.membership.grant();
        Self {
            user_id: r.membership.user_id.clone(),
            email: r.email.clone(),
            first_name: r.first_name.clone(),
            last_name: r.last_name.clone(),
            role: grant.role,
            permissions: grant.effective(),
            two_factor_enabled: r.totp_enabled_at.is_some(),
            locked: r.locked_at.is_some(),
            last_login_at: r.last_login_at.map(utc),
            joined_at: utc(r.membership.created_at),
        }
    }
}

/// A page of members, oldest first.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"data": [{
    "user_id": "usr_01936d7a6b2f7c3e9d4a5b6c7d8e9f01", "email": "luca.rossi@example.ch",
    "first_name": "Luca", "last_name": "Rossi", "role": "member", "permissions": ["accounting"],
    "two_factor_enabled": false, "locked": false, "last_login_at": null,
    "joined_at": "2026-11-20T08:30:00Z"
}], "next_cursor": "MTc2NDE0NzYwMDAwMDAwMHx1c3JfMDE5MzZkN2E2YjJmN2MzZTlkNGE1YjZjN2Q4ZTlmMDE"}))]
pub struct MemberList {
    pub data: Vec<MemberView>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// A pending invitation.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "ivt_01936d7a6b2f7c3e9d4a5b6c7d8e9f02", "email": "ana.garcia@example.es", "role": "member",
    "permissions": ["accounting", "products"], "invited_by": "usr_01936d7a6b2f7c3e9d4a5b6c7d8e9f00",
    "expires_at": "2026-12-03T09:00:00Z", "created_at": "2026-11-26T09:00:00Z"
}))]
pub struct InvitationView {
    pub id: String,
    /// The login the accepting account must have.
    pub email: String,
    pub role: Role,
    pub permissions: Vec<Permission>,
    pub invited_by: String,
    pub expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
}

impl From<&Invitation> for InvitationView {
    fn from(i: &Invitation) -> Self {
        let grant = i.grant();
        Self {
            id: i.id.clone(),
            email: i.email.clone(),
            role: grant.role,
            permissions: grant.effective(),
            invited_by: i.invited_by.clone(),
            expires_at: utc(i.expires_at),
            created_at: utc(i.created_at),
        }
    }
}

/// A page of pending invitations, newest first.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"data": [{
    "id": "ivt_01936d7a6b2f7c3e9d4a5b6c7d8e9f02", "email": "ana.garcia@example.es", "role": "admin",
    "permissions": ["accounting", "products", "domains", "users"],
    "invited_by": "usr_01936d7a6b2f7c3e9d4a5b6c7d8e9f00",
    "expires_at": "2026-12-03T09:00:00Z", "created_at": "2026-11-26T09:00:00Z"
}], "next_cursor": null}))]
pub struct InvitationList {
    pub data: Vec<InvitationView>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// The organisation's security policy.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"require_two_factor": true}))]
pub struct SecurityPolicyView {
    /// Members without two-factor authentication are refused everywhere until they turn it on.
    pub require_two_factor: bool,
}

/// Whether the organisation can be deleted now.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"deletable": false, "offers": [], "unmet": [{"code": "other_members", "detail": "2 other member(s) still belong to the organisation: remove them first.", "count": 2,
    "objects": [{"kind": "member", "id": "usr_01936d7a6b2f7c3e9d4a5b6c7d8e9f01", "name": "Luca Rossi"},
                {"kind": "member", "id": "usr_01936d7a6b2f7c3e9d4a5b6c7d8e9f02", "name": "Ana García"}]}]}))]
pub struct DeletionCheckView {
    /// True when nothing blocks the deletion.
    pub deletable: bool,
    /// Each condition still to meet.
    pub unmet: Vec<super::prerequisites::UnmetPrerequisite>,
    /// What the deletion steps offer to do first (R22), whether or not it can be deleted now:
    /// `mail_paid_invoices` (call `create_invoice_export` with `body` to get the paid and
    /// refunded invoices' PDFs by mail) when there are any.
    pub offers: Vec<DeletionOffer>,
}

/// An operation offered before deleting the organisation.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"code": "mail_paid_invoices", "detail": "Keep a copy of the 3 paid or refunded invoice(s): they are mailed to you as a ZIP of PDFs (a download link valid 7 days).",
    "operation": "create_invoice_export", "path": "/v1/orgs/org_01936d7a6b2f7c3e9d4a5b6c7d8e9f00/invoices/exports",
    "body": {"format": "pdf_zip", "status": ["paid", "partially_refunded", "refunded"]}}))]
pub struct DeletionOffer {
    /// Stable machine-readable name of the offer.
    pub code: &'static str,
    /// What it does, for a human.
    pub detail: String,
    /// The `operationId` to call (with `POST` on `path`).
    pub operation: &'static str,
    pub path: String,
    /// The request body to send: a JSON object, the body of the operation named.
    #[schema(value_type = HashMap<String, serde_json::Value>, example = json!({"format": "pdf_zip", "status": ["paid", "refunded"]}))]
    pub body: serde_json::Value,
}

impl From<crate::services::org_deletion::Offer> for DeletionOffer {
    fn from(o: crate::services::org_deletion::Offer) -> Self {
        Self {
            code: o.code,
            detail: o.detail,
            operation: o.operation,
            path: o.path,
            body: o.body,
        }
    }
}
