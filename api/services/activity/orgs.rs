//! The organisation events (organisations, members, invitations), named: each builds its details
//! in one place. The JSON they write is the one written before they existed (the hash chain
//! covers it).

use chrono::NaiveDateTime;
use serde_json::json;

use super::Event;
use crate::domain::events::ActivityKind;
use crate::domain::ids::InvitationId;
use crate::domain::orgs::Grant;
use crate::models::billing_settings::BillingSettings;
use crate::models::invitations::Invitation;
use crate::models::organizations::Organization;

impl<'a> Event<'a> {
    pub fn organization_created(user_id: &'a str, org: &'a Organization) -> Self {
        Event::new(ActivityKind::OrganizationCreated, user_id)
            .organization(&org.id)
            .details(json!({
                "country": org.country,
                "currency": org.currency,
            }))
    }

    /// `fields`: the names of the fields the edit set, in the edit's fixed order.
    pub fn organization_updated(user_id: &'a str, org_id: &'a str, fields: &[&str]) -> Self {
        Event::new(ActivityKind::OrganizationUpdated, user_id)
            .organization(org_id)
            .details(json!({ "fields": fields }))
    }

    /// The billing settings replaced (R27): what they are now and what changed. The extra
    /// address is personal data: the record says only whether there is one.
    pub fn organization_billing_settings_updated(
        user_id: &'a str,
        org_id: &'a str,
        now: &BillingSettings,
        previous: &BillingSettings,
    ) -> Self {
        let changed: Vec<&str> = [
            (
                now.attach_invoice_pdf != previous.attach_invoice_pdf,
                "attach_invoice_pdf",
            ),
            (
                now.invoice_language != previous.invoice_language,
                "invoice_language",
            ),
            (now.invoice_email != previous.invoice_email, "invoice_email"),
        ]
        .into_iter()
        .filter_map(|(c, f)| c.then_some(f))
        .collect();
        Event::new(ActivityKind::OrganizationBillingSettingsUpdated, user_id)
            .organization(org_id)
            .details(json!({
                "attach_invoice_pdf": now.attach_invoice_pdf,
                "invoice_language": now.invoice_language,
                "invoice_email_set": now.invoice_email.is_some(),
                "changed": changed,
            }))
    }

    pub fn organization_deleted(
        user_id: &'a str,
        org_id: &'a str,
        retain_until: NaiveDateTime,
    ) -> Self {
        Event::new(ActivityKind::OrganizationDeleted, user_id)
            .organization(org_id)
            .details(json!({
                "retain_until": retain_until.and_utc(),
            }))
    }

    pub fn organization_security_policy_updated(
        user_id: &'a str,
        org_id: &'a str,
        require_two_factor: bool,
        previous: bool,
        members_notified: usize,
    ) -> Self {
        Event::new(ActivityKind::OrganizationSecurityPolicyUpdated, user_id)
            .organization(org_id)
            .details(json!({
                "require_two_factor": require_two_factor,
                "previous": previous,
                "members_notified": members_notified,
            }))
    }

    /// `member`'s grant went from `previous` to `next`.
    pub fn member_updated(
        user_id: &'a str,
        org_id: &'a str,
        member: &'a str,
        next: &Grant,
        previous: &Grant,
        invitations_voided: usize,
    ) -> Self {
        Event::new(ActivityKind::MemberUpdated, user_id)
            .subject(member)
            .organization(org_id)
            .details(json!({
                "role": next.role,
                "permissions": next.effective(),
                "previous_role": previous.role,
                "previous_permissions": previous.effective(),
                "invitations_voided": invitations_voided,
            }))
    }

    /// `grant`: the one the member had.
    pub fn member_removed(
        user_id: &'a str,
        org_id: &'a str,
        member: &'a str,
        grant: &Grant,
        invitations_voided: usize,
    ) -> Self {
        Event::new(ActivityKind::MemberRemoved, user_id)
            .subject(member)
            .organization(org_id)
            .details(json!({
                "role": grant.role,
                "invitations_voided": invitations_voided,
            }))
    }

    /// `grant`: the one the member had.
    pub fn member_left(
        user_id: &'a str,
        org_id: &'a str,
        grant: &Grant,
        invitations_voided: usize,
    ) -> Self {
        Event::new(ActivityKind::MemberLeft, user_id)
            .organization(org_id)
            .details(json!({
                "role": grant.role,
                "invitations_voided": invitations_voided,
            }))
    }

    /// The caller joined through `invitation`.
    pub fn member_joined(user_id: &'a str, invitation: &'a Invitation) -> Self {
        Event::new(ActivityKind::MemberJoined, user_id)
            .organization(&invitation.organization_id)
            .details(json!({
                "invitation_id": invitation.id,
                "invited_by": invitation.invited_by,
                "role": invitation.role,
            }))
    }

    /// An admin unlocked a member's account (`member`).
    pub fn member_account_unlocked(user_id: &'a str, org_id: &'a str, member: &'a str) -> Self {
        Event::new(ActivityKind::AccountUnlocked, user_id)
            .subject(member)
            .organization(org_id)
            .details(json!({ "via": "organization_admin" }))
    }

    /// `grant`: the invited one; `replaced`: the pending invitations to the address it replaced.
    pub fn invitation_created(
        user_id: &'a str,
        org_id: &'a str,
        invitation: &Invitation,
        grant: &Grant,
        replaced: usize,
    ) -> Self {
        Event::new(ActivityKind::InvitationCreated, user_id)
            .organization(org_id)
            .details(json!({
                "invitation_id": invitation.id,
                "role": grant.role,
                "permissions": grant.effective(),
                "replaced": replaced,
            }))
    }

    pub fn invitation_revoked(user_id: &'a str, org_id: &'a str, id: &InvitationId) -> Self {
        Event::new(ActivityKind::InvitationRevoked, user_id)
            .organization(org_id)
            .details(json!({ "invitation_id": id }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::orgs::{Permission, Role};

    // The details are part of the hash chain: these are the bytes written before the
    // constructors existed.
    #[test]
    fn named_events_write_the_details_written_before() {
        let details = |e: Event<'_>| e.details.to_string();
        let member = Grant::new(
            Role::Member,
            &[Permission::Products, Permission::Accounting],
        );
        let admin = Grant::new(Role::Admin, &[]);
        assert_eq!(
            details(Event::member_updated(
                "usr_a", "org_b", "usr_c", &admin, &member, 1
            )),
            r#"{"role":"admin","permissions":["accounting","products","domains","users"],"previous_role":"member","previous_permissions":["accounting","products"],"invitations_voided":1}"#
        );
        assert_eq!(
            details(Event::member_left("usr_a", "org_b", &member, 0)),
            r#"{"role":"member","invitations_voided":0}"#
        );
        assert_eq!(
            details(Event::organization_updated(
                "usr_a",
                "org_b",
                &["name", "billing_address"]
            )),
            r#"{"fields":["name","billing_address"]}"#
        );
        assert_eq!(
            details(Event::organization_security_policy_updated(
                "usr_a", "org_b", true, false, 3
            )),
            r#"{"require_two_factor":true,"previous":false,"members_notified":3}"#
        );
        let settings = |pdf: bool, email: Option<&str>| BillingSettings {
            organization_id: "org_b".into(),
            attach_invoice_pdf: pdf,
            invoice_language: "fr".into(),
            invoice_email: email.map(str::to_string),
            updated_at: chrono::DateTime::from_timestamp(0, 0).unwrap().naive_utc(),
        };
        assert_eq!(
            details(Event::organization_billing_settings_updated(
                "usr_a",
                "org_b",
                &settings(true, Some("compta@example.ch")),
                &settings(false, None)
            )),
            r#"{"attach_invoice_pdf":true,"invoice_language":"fr","invoice_email_set":true,"changed":["attach_invoice_pdf","invoice_email"]}"#
        );
        let retain_until = chrono::DateTime::from_timestamp(1_800_000_000, 0)
            .unwrap()
            .naive_utc();
        assert_eq!(
            details(Event::organization_deleted("usr_a", "org_b", retain_until)),
            r#"{"retain_until":"2027-01-15T08:00:00Z"}"#
        );
        let id = InvitationId::generate();
        assert_eq!(
            details(Event::invitation_revoked("usr_a", "org_b", &id)),
            format!(r#"{{"invitation_id":"{id}"}}"#)
        );
        assert_eq!(
            details(Event::member_account_unlocked("usr_a", "org_b", "usr_c")),
            r#"{"via":"organization_admin"}"#
        );
    }
}
