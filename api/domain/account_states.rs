//! The states and kinds kept in the account and platform tables (jobs, mails, idempotency keys,
//! one-time links), as enums: code compares them with these, never with a string.

text_enum! {
    /// Where a queued job stands. A finished job is deleted, so it has no state.
    pub enum JobState {
        /// Waiting for its `run_at`.
        Pending = "pending",
        /// Claimed by a runner until its lease ends.
        Running = "running",
        /// Given up after its last attempt; kept for the operator.
        Dead = "dead",
    }
}

text_enum! {
    /// Where a mail of the outbox stands.
    pub enum MailStatus {
        /// Stored, its delivery job not yet through.
        Pending = "pending",
        Sent = "sent",
        /// Given up after its last attempt.
        Failed = "failed",
    }
}

text_enum! {
    /// Where an idempotency key stands: its first request still running, or answered (the
    /// stored answer is replayed).
    pub enum IdempotencyState {
        InFlight = "in_flight",
        /// The request committed a change (in that change's transaction) but its answer is not
        /// stored yet; if it never is (the process died), the key is not run again.
        Committed = "committed",
        Done = "done",
    }
}

text_enum! {
    /// What a single-use token (a mail link, or the `mfa_token` of a login) is for.
    pub enum LinkPurpose {
        VerifyEmail = "verify_email",
        ResetPassword = "reset_password",
        Unlock = "unlock",
        ConfirmLoginEmail = "confirm_login_email",
        ConfirmRecoveryEmail = "confirm_recovery_email",
        /// The password step of a login with 2FA on: used once, by the code step.
        MfaLogin = "mfa_login",
        /// Confirms a product's cancellation (R43): mailed to whoever asked for it.
        Cancellation = "cancellation",
    }
}

// Tests outside the crate read a job's state and compare it with its name.
impl PartialEq<&str> for JobState {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

text_enum! {
    /// Why a session ended (the `reason` of its `session.ended` activity).
    pub enum SessionEndReason {
        /// The person signed out.
        Logout = "logout",
        /// Unused longer than the idle limit; found on its next refresh.
        Idle = "idle",
        /// A refresh token was used twice: the session is taken to be stolen.
        RefreshTokenReused = "refresh_token_reused",
        /// Ended from the connection log (`DELETE /v1/me/sessions/{session_id}`).
        EndedFromConnectionLog = "ended_from_connection_log",
        /// Ended by an operator (`leman users end-sessions`).
        Operator = "operator",
    }
}
