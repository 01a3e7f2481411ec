//! Table definitions, written by hand to match both migration folders (the parity test in
//! tests/api/migrations.rs checks the folders against each other).

diesel::table! {
    signing_keys (kid) {
        kid -> Text,
        secret -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    jobs (id) {
        id -> Text,
        kind -> Text,
        payload -> Text,
        status -> Text,
        unique_key -> Nullable<Text>,
        attempts -> Integer,
        max_attempts -> Integer,
        run_at -> Timestamp,
        locked_by -> Nullable<Text>,
        locked_until -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    mails (id) {
        id -> Text,
        template -> Text,
        language -> Text,
        to_address -> Text,
        subject -> Text,
        text_body -> Text,
        html_body -> Text,
        status -> Text,
        attempts -> Integer,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
        attachments -> Nullable<Text>,
    }
}

diesel::table! {
    idempotency_keys (id) {
        id -> Text,
        caller -> Text,
        route -> Text,
        idem_key -> Text,
        request_hash -> Text,
        status -> Text,
        response_status -> Nullable<Integer>,
        response_content_type -> Nullable<Text>,
        response_body -> Nullable<Text>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    users (id) {
        id -> Text,
        email -> Text,
        email_verified_at -> Nullable<Timestamp>,
        password_hash -> Text,
        first_name -> Text,
        last_name -> Text,
        language -> Text,
        timezone -> Text,
        recovery_email -> Nullable<Text>,
        recovery_email_verified_at -> Nullable<Timestamp>,
        pending_recovery_email -> Nullable<Text>,
        failed_logins -> Integer,
        locked_at -> Nullable<Timestamp>,
        lock_after_failed_logins -> Integer,
        notify_on_login_success -> Bool,
        notify_on_login_failure -> Bool,
        totp_secret -> Nullable<Text>,
        totp_enabled_at -> Nullable<Timestamp>,
        totp_last_step -> Nullable<BigInt>,
        password_changed_at -> Timestamp,
        last_login_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        deleted_at -> Nullable<Timestamp>,
        two_factor_required -> Bool,
        signup_replaced -> Bool,
    }
}

diesel::table! {
    one_time_tokens (id) {
        id -> Text,
        user_id -> Text,
        purpose -> Text,
        token_hash -> Text,
        new_email -> Nullable<Text>,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        user_id -> Text,
        amr -> Text,
        ip -> Nullable<Text>,
        user_agent -> Nullable<Text>,
        created_at -> Timestamp,
        last_seen_at -> Timestamp,
        refreshed_at -> Timestamp,
        authenticated_at -> Timestamp,
        expires_at -> Timestamp,
        ended_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    refresh_tokens (token_hash) {
        token_hash -> Text,
        session_id -> Text,
        created_at -> Timestamp,
        rotated_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    recovery_codes (id) {
        id -> Text,
        user_id -> Text,
        code_hash -> Text,
        used_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    api_tokens (id) {
        id -> Text,
        user_id -> Text,
        name -> Text,
        kind -> Text,
        scopes -> Text,
        token_hash -> Text,
        prefix -> Text,
        expires_at -> Nullable<Timestamp>,
        last_used_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    newsletter_subscriptions (user_id, topic) {
        user_id -> Text,
        topic -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    activities (id) {
        id -> Text,
        actor_user_id -> Nullable<Text>,
        subject_user_id -> Nullable<Text>,
        organization_id -> Nullable<Text>,
        product_id -> Nullable<Text>,
        action -> Text,
        details -> Text,
        ip -> Nullable<Text>,
        user_agent -> Nullable<Text>,
        actor_name -> Nullable<Text>,
        created_at -> Timestamp,
        chain_id -> Nullable<Text>,
        seq -> Nullable<BigInt>,
        actor_digest -> Nullable<Text>,
        subject_digest -> Nullable<Text>,
        prev_hash -> Nullable<Text>,
        hash -> Nullable<Text>,
    }
}

diesel::table! {
    organizations (id) {
        id -> Text,
        name -> Text,
        country -> Text,
        currency -> Text,
        address_line1 -> Text,
        address_line2 -> Nullable<Text>,
        postal_code -> Text,
        city -> Text,
        vat_number -> Nullable<Text>,
        require_two_factor -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        deleted_at -> Nullable<Timestamp>,
        retain_until -> Nullable<Timestamp>,
        default_payment_method -> Nullable<Text>,
    }
}

diesel::table! {
    memberships (organization_id, user_id) {
        organization_id -> Text,
        user_id -> Text,
        role -> Text,
        permissions -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    invitations (id) {
        id -> Text,
        organization_id -> Text,
        email -> Text,
        role -> Text,
        permissions -> Text,
        token_hash -> Text,
        invited_by -> Text,
        expires_at -> Timestamp,
        accepted_at -> Nullable<Timestamp>,
        accepted_by -> Nullable<Text>,
        revoked_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    activity_chains (id) {
        id -> Text,
        last_seq -> BigInt,
        last_hash -> Text,
    }
}

diesel::table! {
    products (id) {
        id -> Text,
        organization_id -> Text,
        offer_id -> Text,
        kind -> Text,
        name -> Text,
        period_months -> Integer,
        options -> Text,
        status -> Text,
        auto_renew -> Bool,
        price_minor -> BigInt,
        currency -> Text,
        order_id -> Text,
        started_at -> Nullable<Timestamp>,
        expires_at -> Nullable<Timestamp>,
        cancelled_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        auto_renew_payment_method_id -> Nullable<Text>,
        next_period_months -> Nullable<Integer>,
        next_options -> Nullable<Text>,
        bundle_id -> Nullable<Text>,
        reminded_for -> Nullable<Timestamp>,
        reminder_stage -> Nullable<Integer>,
        status_changed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    renewals (id) {
        id -> Text,
        organization_id -> Text,
        product_id -> Text,
        order_id -> Nullable<Text>,
        pro_forma_id -> Nullable<Text>,
        period_start -> Timestamp,
        period_end -> Timestamp,
        period_months -> Integer,
        price_minor -> BigInt,
        options -> Text,
        status -> Text,
        automatic -> Bool,
        attempts -> Integer,
        next_attempt_at -> Nullable<Timestamp>,
        last_failure -> Nullable<Text>,
        created_at -> Timestamp,
        settled_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    product_changes (id) {
        id -> Text,
        organization_id -> Text,
        product_id -> Text,
        order_id -> Text,
        options -> Text,
        status -> Text,
        created_at -> Timestamp,
        settled_at -> Nullable<Timestamp>,
        price_minor -> Nullable<BigInt>,
    }
}

diesel::table! {
    cancellations (id) {
        id -> Text,
        organization_id -> Text,
        product_id -> Text,
        requested_by -> Text,
        effective -> Text,
        reason -> Nullable<Text>,
        status -> Text,
        created_at -> Timestamp,
        confirmed_at -> Nullable<Timestamp>,
        effective_at -> Nullable<Timestamp>,
        withdrawn_at -> Nullable<Timestamp>,
        link_token_hash -> Nullable<Text>,
    }
}

diesel::table! {
    pro_forma_counters (year) {
        year -> Integer,
        last_seq -> BigInt,
    }
}

diesel::table! {
    pro_formas (id) {
        id -> Text,
        organization_id -> Text,
        number -> Text,
        currency -> Text,
        subtotal_minor -> BigInt,
        vat_minor -> BigInt,
        total_minor -> BigInt,
        lines -> Text,
        transfer_reference -> Nullable<Text>,
        order_id -> Nullable<Text>,
        invoice_id -> Nullable<Text>,
        created_by -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        credited_payment_id -> Nullable<Text>,
        credited_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    sandbox_charges (idempotency_key) {
        idempotency_key -> Text,
        reference -> Text,
        outcome -> Text,
        amount_minor -> BigInt,
        currency -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    rate_limit_counters (key) {
        key -> Text,
        tat -> Timestamp,
        allowed -> Bool,
    }
}

diesel::table! {
    invoice_counters (issuer, year) {
        issuer -> Text,
        year -> Integer,
        last_seq -> BigInt,
    }
}

diesel::table! {
    invoices (id) {
        id -> Text,
        organization_id -> Text,
        issuer -> Text,
        number -> Text,
        status -> Text,
        currency -> Text,
        subtotal_minor -> BigInt,
        vat_minor -> BigInt,
        total_minor -> BigInt,
        refunded_minor -> BigInt,
        customer_name -> Text,
        customer_address -> Text,
        customer_country -> Text,
        customer_vat_number -> Nullable<Text>,
        order_id -> Nullable<Text>,
        issued_at -> Timestamp,
        due_at -> Timestamp,
        paid_at -> Nullable<Timestamp>,
        cancelled_at -> Nullable<Timestamp>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    invoice_lines (id) {
        id -> Text,
        invoice_id -> Text,
        position -> Integer,
        description -> Text,
        product_id -> Nullable<Text>,
        quantity -> BigInt,
        unit_price_minor -> BigInt,
        vat_rate -> Text,
        net_minor -> BigInt,
        vat_minor -> BigInt,
        total_minor -> BigInt,
        period_start -> Nullable<Timestamp>,
        period_end -> Nullable<Timestamp>,
    }
}

diesel::table! {
    orders (id) {
        id -> Text,
        organization_id -> Text,
        status -> Text,
        invoice_id -> Text,
        currency -> Text,
        total_minor -> BigInt,
        created_by -> Text,
        expires_at -> Timestamp,
        paid_at -> Nullable<Timestamp>,
        cancelled_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    payment_methods (id) {
        id -> Text,
        organization_id -> Text,
        #[sql_name = "type"]
        type_ -> Text,
        label -> Text,
        card_brand -> Nullable<Text>,
        card_last4 -> Nullable<Text>,
        card_exp_month -> Nullable<Integer>,
        card_exp_year -> Nullable<Integer>,
        iban -> Nullable<Text>,
        gateway_token -> Nullable<Text>,
        created_at -> Timestamp,
        deleted_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    payments (id) {
        id -> Text,
        organization_id -> Text,
        invoice_id -> Nullable<Text>,
        purpose -> Text,
        method -> Text,
        payment_method_id -> Nullable<Text>,
        amount_minor -> BigInt,
        currency -> Text,
        status -> Text,
        gateway_reference -> Nullable<Text>,
        failure_code -> Nullable<Text>,
        refunded_minor -> BigInt,
        created_by -> Text,
        created_at -> Timestamp,
        settled_at -> Nullable<Timestamp>,
        pro_forma_id -> Nullable<Text>,
    }
}

diesel::table! {
    refunds (id) {
        id -> Text,
        payment_id -> Text,
        amount_minor -> BigInt,
        destination -> Text,
        status -> Text,
        provider_reference -> Nullable<Text>,
        failure_code -> Nullable<Text>,
        created_at -> Timestamp,
        settled_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    prepaid_accounts (organization_id) {
        organization_id -> Text,
        currency -> Text,
        balance_minor -> BigInt,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    prepaid_transactions (id) {
        id -> Text,
        organization_id -> Text,
        kind -> Text,
        amount_minor -> BigInt,
        balance_after_minor -> BigInt,
        currency -> Text,
        payment_id -> Nullable<Text>,
        invoice_id -> Nullable<Text>,
        iban -> Nullable<Text>,
        created_by -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    webhook_events (id) {
        id -> Text,
        event_type -> Text,
        received_at -> Timestamp,
    }
}

diesel::joinable!(one_time_tokens -> users (user_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(refresh_tokens -> sessions (session_id));
diesel::joinable!(recovery_codes -> users (user_id));
diesel::joinable!(api_tokens -> users (user_id));
diesel::joinable!(newsletter_subscriptions -> users (user_id));
diesel::joinable!(memberships -> organizations (organization_id));
diesel::joinable!(memberships -> users (user_id));
diesel::joinable!(invitations -> organizations (organization_id));
diesel::joinable!(invoice_lines -> invoices (invoice_id));

diesel::table! {
    domains (id) {
        id -> Text,
        organization_id -> Text,
        product_id -> Text,
        name -> Text,
        unicode_name -> Text,
        tld -> Text,
        status -> Text,
        registry_statuses -> Text,
        locked -> Bool,
        privacy -> Bool,
        owner_contact -> Text,
        admin_contact -> Text,
        tech_contact -> Text,
        registered_at -> Nullable<Timestamp>,
        expires_at -> Nullable<Timestamp>,
        last_transferred_at -> Nullable<Timestamp>,
        owner_changed_at -> Nullable<Timestamp>,
        transfer_state -> Text,
        transfer_state_at -> Nullable<Timestamp>,
        transfer_code_expires_at -> Nullable<Timestamp>,
        transfer_requested_by -> Nullable<Text>,
        transfer_completes_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    domain_transfer_codes (id) {
        id -> Text,
        domain_id -> Text,
        code_hash -> Text,
        requested_by -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        voided_at -> Nullable<Timestamp>,
        recipient -> Nullable<Text>,
    }
}

diesel::table! {
    registry_domains (name) {
        name -> Text,
        registrar -> Text,
        statuses -> Text,
        contacts -> Text,
        owner_email -> Text,
        privacy -> Bool,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        auth_code_hash -> Nullable<Text>,
        auth_code_expires_at -> Nullable<Timestamp>,
        transfer_status -> Nullable<Text>,
        transfer_gaining_registrar -> Nullable<Text>,
        transfer_requested_at -> Nullable<Timestamp>,
        transfer_act_at -> Nullable<Timestamp>,
        last_transferred_at -> Nullable<Timestamp>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    registry_messages (id) {
        id -> Text,
        registrar -> Text,
        domain_name -> Text,
        kind -> Text,
        status -> Text,
        gaining_registrar -> Nullable<Text>,
        created_at -> Timestamp,
        acked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    registry_clock (id) {
        id -> Integer,
        offset_seconds -> BigInt,
    }
}

diesel::table! {
    domain_owner_changes (id) {
        id -> Text,
        domain_id -> Text,
        organization_id -> Text,
        requested_by -> Text,
        contacts -> Text,
        old_owner_email -> Text,
        new_owner_email -> Text,
        old_token_hash -> Text,
        new_token_hash -> Text,
        old_confirmed_at -> Nullable<Timestamp>,
        new_confirmed_at -> Nullable<Timestamp>,
        status -> Text,
        expires_at -> Timestamp,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    credit_note_counters (year) {
        year -> Integer,
        last_seq -> BigInt,
    }
}

diesel::table! {
    credit_notes (id) {
        id -> Text,
        organization_id -> Text,
        invoice_id -> Text,
        refund_id -> Text,
        number -> Text,
        currency -> Text,
        subtotal_minor -> BigInt,
        vat_minor -> BigInt,
        total_minor -> BigInt,
        destination -> Text,
        vat_breakdown -> Text,
        issued_at -> Timestamp,
    }
}

diesel::table! {
    billing_settings (organization_id) {
        organization_id -> Text,
        attach_invoice_pdf -> Bool,
        invoice_language -> Text,
        invoice_email -> Nullable<Text>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    tasks (id) {
        id -> Text,
        kind -> Text,
        user_id -> Text,
        organization_id -> Nullable<Text>,
        status -> Text,
        params -> Text,
        progress_done -> BigInt,
        progress_total -> Nullable<BigInt>,
        result -> Nullable<Text>,
        error_code -> Nullable<Text>,
        error_message -> Nullable<Text>,
        created_at -> Timestamp,
        started_at -> Nullable<Timestamp>,
        finished_at -> Nullable<Timestamp>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    task_files (task_id) {
        task_id -> Text,
        filename -> Text,
        content_type -> Text,
        size_bytes -> BigInt,
        sha256 -> Text,
        chunk_count -> Integer,
        token_hash -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    task_file_chunks (task_id, seq) {
        task_id -> Text,
        seq -> Integer,
        data -> Binary,
    }
}

diesel::table! {
    feedback (id) {
        id -> Text,
        user_id -> Text,
        service -> Text,
        language -> Text,
        message -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    webhook_endpoints (id) {
        id -> Text,
        organization_id -> Text,
        url -> Text,
        description -> Text,
        event_types -> Text,
        enabled -> Bool,
        secret -> Text,
        previous_secret -> Nullable<Text>,
        previous_secret_expires_at -> Nullable<Timestamp>,
        failing_since -> Nullable<Timestamp>,
        disabled_reason -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> Text,
        endpoint_id -> Text,
        organization_id -> Text,
        event_id -> Text,
        event_type -> Text,
        payload -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Nullable<Timestamp>,
        claimed_until -> Nullable<Timestamp>,
        last_attempt_at -> Nullable<Timestamp>,
        last_status_code -> Nullable<Integer>,
        last_duration_ms -> Nullable<BigInt>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::joinable!(feedback -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(
    signing_keys,
    jobs,
    mails,
    idempotency_keys,
    users,
    one_time_tokens,
    sessions,
    refresh_tokens,
    recovery_codes,
    api_tokens,
    newsletter_subscriptions,
    activities,
    organizations,
    memberships,
    invitations,
    activity_chains,
    products,
    renewals,
    product_changes,
    cancellations,
    pro_forma_counters,
    pro_formas,
    sandbox_charges,
    invoice_counters,
    rate_limit_counters,
    invoices,
    invoice_lines,
    orders,
    payment_methods,
    payments,
    refunds,
    prepaid_accounts,
    prepaid_transactions,
    webhook_events,
    domains,
    domain_transfer_codes,
    registry_domains,
    registry_messages,
    registry_clock,
    domain_owner_changes,
    credit_note_counters,
    credit_notes,
    billing_settings,
    tasks,
    task_files,
    task_file_chunks,
    feedback,
    webhook_endpoints,
    webhook_deliveries,
);
