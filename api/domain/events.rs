//! The kinds of activity Leman records: one enum, the list `GET /v1/activity-kinds` serves and
//! the outgoing webhooks will publish. Each recorded change names its kind
//! (`Event::new(ActivityKind::InvoicePaid, …)`), never a free string.

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
        OrganizationUpdated = "organization.updated",
        // Billing.
        InvoicePaid = "invoice.paid",
        InvoiceRefunded = "invoice.refunded",
        OrderCreated = "order.created",
        OrderExpired = "order.expired",
        PaymentFailed = "payment.failed",
        PaymentSucceeded = "payment.succeeded",
        PaymentMethodAdded = "payment_method.added",
        PaymentMethodMadeDefault = "payment_method.made_default",
        PaymentMethodRemoved = "payment_method.removed",
        PrepaidToppedUp = "prepaid.topped_up",
        PrepaidWithdrawn = "prepaid.withdrawn",
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
        )
    }
}
