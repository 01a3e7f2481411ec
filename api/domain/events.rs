//! The kinds of activity Leman records: one enum, the list `GET /v1/activity-kinds` serves and
//! the outgoing webhooks will publish. Each recorded change names its kind
//! (`Event::invoice_paid(…)`, a named constructor in `services::activity`), never a free string.

text_enum! {
    /// What happened, as `<object>.<verb>`.
    pub enum ActivityKind {
        // Account and sign-in.
        AccountDeleted = "account.deleted",
        AccountLocked = "account.locked",
        AccountUnlockRequested = "account.unlock_requested",
        AccountUnlocked = "account.unlocked",
        LoginFailed = "login.failed",
        LoginSucceeded = "login.succeeded",
        LoginEmailChangeRequested = "login_email.change_requested",
        LoginEmailChanged = "login_email.changed",
        NewslettersUpdated = "newsletters.updated",
        PasswordChanged = "password.changed",
        PasswordReset = "password.reset",
        PasswordResetRequested = "password.reset_requested",
        ProfileUpdated = "profile.updated",
        RecoveryEmailChangeRequested = "recovery_email.change_requested",
        RecoveryEmailChangeWithdrawn = "recovery_email.change_withdrawn",
        RecoveryEmailChanged = "recovery_email.changed",
        RecoveryEmailConfirmationResent = "recovery_email.confirmation_resent",
        SecuritySettingsUpdated = "security_settings.updated",
        SessionEnded = "session.ended",
        SessionReauthenticated = "session.reauthenticated",
        SessionsEndedOthers = "sessions.ended_others",
        TokenCreated = "token.created",
        TokenRevoked = "token.revoked",
        TwoFactorCodeReplayed = "two_factor.code_replayed",
        TwoFactorDisabled = "two_factor.disabled",
        TwoFactorEnabled = "two_factor.enabled",
        TwoFactorEnrolmentStarted = "two_factor.enrolment_started",
        TwoFactorRecoveryCodesRegenerated = "two_factor.recovery_codes_regenerated",
        UserEmailVerified = "user.email_verified",
        UserSignedUp = "user.signed_up",
        UserVerificationResent = "user.verification_resent",
        FeedbackSent = "feedback.sent",
        // Organisations.
        InvitationCreated = "invitation.created",
        InvitationRevoked = "invitation.revoked",
        MemberJoined = "member.joined",
        MemberLeft = "member.left",
        MemberRemoved = "member.removed",
        MemberUpdated = "member.updated",
        OrganizationCreated = "organization.created",
        OrganizationDeleted = "organization.deleted",
        OrganizationSecurityPolicyUpdated = "organization.security_policy_updated",
        OrganizationBillingSettingsUpdated = "organization.billing_settings_updated",
        OrganizationUpdated = "organization.updated",
        // Billing.
        InvoicePaid = "invoice.paid",
        InvoiceExportRequested = "invoice.export_requested",
        InvoiceRefunded = "invoice.refunded",
        OrderCreated = "order.created",
        OrderExpired = "order.expired",
        ProFormaIssued = "pro_forma.issued",
        ProFormaCreated = "pro_forma.created",
        ProFormaLapsed = "pro_forma.lapsed",
        ProFormaCredited = "pro_forma.credited",
        RenewalOrdered = "renewal.ordered",
        PaymentFailed = "payment.failed",
        PaymentSucceeded = "payment.succeeded",
        PaymentMethodAdded = "payment_method.added",
        PaymentMethodMadeDefault = "payment_method.made_default",
        PaymentMethodRemoved = "payment_method.removed",
        PrepaidToppedUp = "prepaid.topped_up",
        PrepaidWithdrawn = "prepaid.withdrawn",
        // The product lifecycle: expiry and cancellation.
        ProductExpired = "product.expired",
        ProductSuspended = "product.suspended",
        ProductCancelled = "product.cancelled",
        CancellationRequested = "cancellation.requested",
        CancellationConfirmed = "cancellation.confirmed",
        CancellationWithdrawn = "cancellation.withdrawn",
        // Products: changes and moves.
        ProductChangeScheduled = "product.change_scheduled",
        ProductChangeWithdrawn = "product.change_withdrawn",
        ProductUpgradeOrdered = "product.upgrade_ordered",
        ProductUpgraded = "product.upgraded",
        ProductMovedIn = "product.moved_in",
        ProductMovedOut = "product.moved_out",
        // Auto-renewal (issue 11).
        AutoRenewalEnabled = "auto_renewal.enabled",
        AutoRenewalDisabled = "auto_renewal.disabled",
        AutoRenewalOrdered = "auto_renewal.ordered",
        // Domains: transfer out (issue 12).
        DomainTransferCodeSent = "domain.transfer_code_sent",
        DomainTransferCancelled = "domain.transfer_cancelled",
        DomainTransferRequested = "domain.transfer_requested",
        DomainTransferRejected = "domain.transfer_rejected",
        DomainTransferredOut = "domain.transferred_out",
        // Domains (issue 12): contacts, privacy and the registrar's lock.
        DomainContactsUpdated = "domain.contacts_updated",
        DomainOwnerChangeRequested = "domain.owner_change_requested",
        DomainOwnerChangeConfirmed = "domain.owner_change_confirmed",
        DomainOwnerChanged = "domain.owner_changed",
        DomainPrivacyEnabled = "domain.privacy_enabled",
        DomainPrivacyDisabled = "domain.privacy_disabled",
        DomainLocked = "domain.locked",
        DomainUnlocked = "domain.unlocked",
        // Domains (issue 12): registration and renewal at the registry.
        DomainRegistered = "domain.registered",
        DomainRegistrationFailed = "domain.registration_failed",
        DomainRenewed = "domain.renewed",
        // Outgoing webhooks (issue 14).
        WebhookEndpointCreated = "webhook_endpoint.created",
        WebhookEndpointUpdated = "webhook_endpoint.updated",
        WebhookEndpointDeleted = "webhook_endpoint.deleted",
        WebhookEndpointSecretRotated = "webhook_endpoint.secret_rotated",
        WebhookDeliveryRetried = "webhook_delivery.retried",
    }
}

impl ActivityKind {
    /// Whether changes of this kind concern an organisation (its activity log and its members'
    /// webhooks) rather than only a person's account.
    pub fn in_organisation(self) -> bool {
        let object = self.as_str().split('.').next().unwrap_or_default();
        matches!(
            object,
            "organization"
                | "member"
                | "invitation"
                | "order"
                | "invoice"
                | "payment"
                | "payment_method"
                | "prepaid"
                | "product"
                | "cancellation"
                | "renewal"
                | "pro_forma"
                | "auto_renewal"
                | "domain"
                | "webhook_endpoint"
                | "webhook_delivery"
        )
    }
}

impl ActivityKind {
    /// One line saying what a change of this kind is (`GET /v1/activity-kinds`).
    pub fn description(self) -> &'static str {
        use ActivityKind::*;
        match self {
            AccountDeleted => "A person deleted their account.",
            AccountLocked => "An account was locked after too many failed sign-ins.",
            AccountUnlockRequested => "A person asked for a link to unlock their account.",
            AccountUnlocked => "A locked account was unlocked.",
            LoginFailed => "A sign-in failed.",
            LoginSucceeded => "A person signed in: a session began.",
            LoginEmailChangeRequested => "A person asked to change their sign-in email.",
            LoginEmailChanged => "A person's sign-in email changed.",
            NewslettersUpdated => "A person changed their newsletter subscriptions.",
            PasswordChanged => "A person changed their password.",
            PasswordReset => "A password was reset through an emailed link.",
            PasswordResetRequested => "A person asked for a password reset link.",
            ProfileUpdated => "A person changed their profile (name, language, time zone).",
            RecoveryEmailChangeRequested => "A person asked to change their recovery email.",
            RecoveryEmailChangeWithdrawn => "A pending recovery email change was withdrawn.",
            RecoveryEmailChanged => "A person's recovery email changed.",
            RecoveryEmailConfirmationResent => "The recovery email confirmation was sent again.",
            SecuritySettingsUpdated => "A person changed their security settings.",
            SessionEnded => "A session ended (signed out or revoked).",
            SessionReauthenticated => "A session confirmed the password again.",
            SessionsEndedOthers => "A person ended all their other sessions.",
            TokenCreated => "A personal API token was created.",
            TokenRevoked => "A personal API token was revoked.",
            TwoFactorCodeReplayed => "A two-factor code already used was refused.",
            TwoFactorDisabled => "Two-factor authentication was turned off.",
            TwoFactorEnabled => "Two-factor authentication was turned on.",
            TwoFactorEnrolmentStarted => "A person began setting up two-factor authentication.",
            TwoFactorRecoveryCodesRegenerated => "New two-factor recovery codes were made.",
            UserEmailVerified => "A person verified their email address.",
            UserSignedUp => "A person created an account.",
            UserVerificationResent => "The verification email was sent again.",
            FeedbackSent => "A person sent feedback or a suggestion about a service.",
            InvitationCreated => "Someone was invited to an organisation.",
            InvitationRevoked => "An invitation to an organisation was withdrawn.",
            MemberJoined => "A person joined an organisation.",
            MemberLeft => "A member left an organisation.",
            MemberRemoved => "A member was removed from an organisation.",
            MemberUpdated => "A member's roles or permissions changed.",
            OrganizationCreated => "An organisation was created.",
            OrganizationDeleted => "An organisation was deleted.",
            OrganizationSecurityPolicyUpdated => "An organisation's security policy changed.",
            OrganizationBillingSettingsUpdated => {
                "An organisation's billing settings changed (invoice PDF in mails, language, extra address)."
            }
            OrganizationUpdated => "An organisation's details changed.",
            InvoicePaid => "An invoice was paid in full.",
            InvoiceExportRequested => {
                "Someone asked for an export of invoices (CSV or PDFs), mailed to them as a download link."
            }
            InvoiceRefunded => "An invoice was refunded, in part or in full.",
            OrderCreated => "An order was placed.",
            OrderExpired => "An unpaid order expired.",
            ProFormaIssued => {
                "A pro forma invoice was issued for renewals to be paid by bank transfer."
            }
            ProFormaLapsed => "A pro forma invoice lapsed unpaid: its renewals were voided.",
            ProFormaCreated => {
                "A pro forma invoice was made on request for products or offers (nothing ordered)."
            }
            ProFormaCredited => {
                "A bank transfer quoting a pro forma invoice made on request arrived: the money was added to the prepaid account."
            }
            RenewalOrdered => "Products' renewals were ordered on one invoice.",
            PaymentFailed => "A payment failed.",
            PaymentSucceeded => "A payment succeeded.",
            PaymentMethodAdded => "A payment method was saved.",
            PaymentMethodMadeDefault => "A payment method became the default.",
            PaymentMethodRemoved => "A payment method was removed.",
            PrepaidToppedUp => "Money was added to the prepaid account.",
            ProductChangeScheduled => {
                "A product's billing period or options were set to change at the term's end."
            }
            ProductChangeWithdrawn => "A product's scheduled change was withdrawn.",
            ProductUpgradeOrdered => "More of a product's options were ordered, to pay first.",
            ProductUpgraded => "A product's options went up at once (nothing left to pay).",
            ProductMovedIn => "A product moved here from another organisation.",
            ProductMovedOut => "A product moved to another organisation.",
            PrepaidWithdrawn => "Money was withdrawn from the prepaid account.",
            ProductExpired => {
                "A product reached its expiry unrenewed: still renewable in its grace period."
            }
            ProductSuspended => {
                "An expired product's grace period ended unrenewed: it is suspended."
            }
            ProductCancelled => {
                "A product was cancelled (at the end of its suspension, or by a confirmed cancellation)."
            }
            CancellationRequested => {
                "Someone asked to cancel a product; it waits for the mailed confirmation."
            }
            CancellationConfirmed => {
                "A product's cancellation was confirmed through the mailed link."
            }
            CancellationWithdrawn => "A product's cancellation was withdrawn.",
            AutoRenewalEnabled => "A product's automatic renewal was turned on.",
            AutoRenewalDisabled => {
                "A product's automatic renewal was turned off (by a person, or as its card went)."
            }
            AutoRenewalOrdered => "The scheduler made a product's renewal order, to be charged.",
            DomainTransferCodeSent => {
                "A domain's transfer-out code was mailed to its owner (never recorded itself)."
            }
            DomainTransferCancelled => "A domain's transfer-out code was cleared.",
            DomainTransferRequested => {
                "Another registrar asked for a domain with its code; the registry waits before approving."
            }
            DomainTransferRejected => "A requested transfer of a domain was rejected.",
            DomainTransferredOut => {
                "A domain left for another registrar: its product ended, billing stopped."
            }
            DomainContactsUpdated => {
                "A domain's contacts changed at the registry (admin, tech, or the owner's address)."
            }
            DomainOwnerChangeRequested => {
                "A change of a domain's owner was asked; both owners must confirm it by mail."
            }
            DomainOwnerChangeConfirmed => {
                "The current or the new owner confirmed a change of a domain's owner."
            }
            DomainOwnerChanged => "A domain's owner changed, both owners having confirmed it.",
            DomainPrivacyEnabled => "WHOIS privacy was turned on for a domain.",
            DomainPrivacyDisabled => "WHOIS privacy was turned off for a domain.",
            DomainLocked => "A domain was locked against transfers (clientTransferProhibited).",
            DomainUnlocked => "A domain's transfer lock was lifted.",
            DomainRegistered => "The registry confirmed a domain's registration: it is active.",
            DomainRegistrationFailed => {
                "A paid domain could not be registered (taken meanwhile): refunded to the prepaid account."
            }
            DomainRenewed => {
                "The registry extended a domain's registration after its renewal was paid."
            }
            WebhookEndpointCreated => "A webhook endpoint was registered.",
            WebhookEndpointUpdated => "A webhook endpoint was changed (URL, events, enabled).",
            WebhookEndpointDeleted => "A webhook endpoint was deleted.",
            WebhookEndpointSecretRotated => {
                "A webhook endpoint's signing secret was rotated (the old one signs for 24 hours more)."
            }
            WebhookDeliveryRetried => "A webhook delivery was queued again by hand.",
        }
    }
}
