//! Table definitions without a schema: the door's `search_path` decides which schema they mean.

// Control plane (schema `public`).
diesel::table! {
    plans (code) {
        code -> Text,
        name -> Text,
        monthly_fee_vnd -> Int8,
        rate_limit_rps -> Int4,
        rate_burst -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    tenants (id) {
        id -> Uuid,
        slug -> Text,
        name -> Text,
        status -> Text,
        plan_code -> Text,
        schema_name -> Text,
        role_name -> Text,
        schema_version -> Text,
        code -> Nullable<Text>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        province_code -> Nullable<Text>,
        successor_id -> Nullable<Uuid>,
        merged_on -> Nullable<Date>,
        former_names -> Array<Text>,
    }
}

diesel::table! {
    admin_provinces (code) {
        code -> Text,
        name -> Text,
        valid_from -> Date,
        valid_to -> Nullable<Date>,
        successor -> Nullable<Text>,
    }
}

diesel::table! {
    admin_units (code) {
        code -> Text,
        name -> Text,
        kind -> Text,
        province_code -> Text,
        valid_from -> Date,
        valid_to -> Nullable<Date>,
        successor -> Nullable<Text>,
    }
}

diesel::table! {
    tenant_domains (host) {
        host -> Text,
        tenant_id -> Uuid,
        kind -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    operators (id) {
        id -> Uuid,
        email -> Text,
        full_name -> Text,
        role -> Text,
        password_hash -> Text,
        active -> Bool,
        created_at -> Timestamptz,
        token_version -> Int8,
    }
}

diesel::table! {
    audit_log (id) {
        id -> Int8,
        at -> Timestamptz,
        actor -> Text,
        action -> Text,
        target -> Text,
        details -> Jsonb,
    }
}

diesel::table! {
    province_stats (tenant_id, period) {
        tenant_id -> Uuid,
        period -> Text,
        received -> Int4,
        received_online -> Int4,
        informed -> Int4,
        decided -> Int4,
        decided_on_time -> Int4,
        fee_requested -> Int4,
        paid_online -> Int4,
        rated -> Int4,
        satisfied -> Int4,
        computed_at -> Timestamptz,
    }
}

diesel::joinable!(tenants -> plans (plan_code));
diesel::joinable!(tenant_domains -> tenants (tenant_id));
diesel::allow_tables_to_appear_in_same_query!(plans, tenants, tenant_domains);

// Tenant schema (`t_<slug>`), reached only through the tenant door.
diesel::table! {
    branding (id) {
        id -> Int2,
        display_name -> Text,
        accent_color -> Text,
        hotline -> Text,
        address -> Text,
        banner -> Text,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    procedure_settings (code) {
        code -> Text,
        enabled -> Bool,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    dossiers (id) {
        id -> Int8,
        tracking_code -> Text,
        procedure_code -> Text,
        citizen_id -> Nullable<Uuid>,
        applicant_name -> Text,
        applicant_id_number -> Text,
        contact_email -> Nullable<Text>,
        channel -> Text,
        status -> Text,
        answers -> Jsonb,
        lang -> Text,
        fee_vnd -> Int8,
        due_on -> Nullable<Date>,
        clock_stopped_on -> Nullable<Date>,
        submitted_at -> Timestamptz,
        decided_at -> Nullable<Timestamptz>,
        updated_at -> Timestamptz,
        handler_id -> Nullable<Uuid>,
        due_flag -> Nullable<Text>,
        received_at_unit -> Nullable<Text>,
        competent_unit -> Nullable<Text>,
        assignee_id -> Nullable<Uuid>,
        assurance_level -> Nullable<Int2>,
    }
}

diesel::table! {
    units (code) {
        code -> Text,
        name -> Text,
        kind -> Text,
        receives -> Bool,
        retired_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        former_names -> Array<Text>,
    }
}

diesel::table! {
    procedure_units (procedure_code) {
        procedure_code -> Text,
        unit_code -> Text,
    }
}

diesel::table! {
    staff_units (staff_id, unit_code) {
        staff_id -> Uuid,
        unit_code -> Text,
    }
}

diesel::table! {
    dossier_events (id) {
        id -> Int8,
        dossier_id -> Int8,
        at -> Timestamptz,
        action -> Text,
        status -> Text,
        note -> Nullable<Text>,
        actor -> Text,
        deficiencies -> Nullable<Jsonb>,
        override_reason -> Nullable<Text>,
    }
}

// The result of a dossier (tenant schema).
diesel::table! {
    dossier_results (dossier_id) {
        dossier_id -> Int8,
        kind -> Text,
        verification_code -> Text,
        sha256 -> Text,
        issued_on -> Date,
        blob_id -> Nullable<Uuid>,
        file_name -> Nullable<Text>,
        size -> Nullable<Int8>,
        decision_number -> Nullable<Text>,
        pickup -> Nullable<Text>,
        attached_by -> Text,
        created_at -> Timestamptz,
    }
}

// Every province's verification codes by their hash (schema `public`).
diesel::table! {
    result_verifications (code_hash) {
        code_hash -> Text,
        tenant_id -> Uuid,
        procedure_code -> Text,
        issued_on -> Date,
        sha256 -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    blobs (id) {
        id -> Uuid,
        data -> Bytea,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    attachments (id) {
        id -> Uuid,
        dossier_id -> Int8,
        field -> Nullable<Text>,
        name -> Text,
        content_type -> Text,
        size -> Int8,
        sha256 -> Text,
        blob_id -> Uuid,
        uploaded_by -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    outbox (id) {
        id -> Int8,
        kind -> Text,
        dossier_id -> Nullable<Int8>,
        to_email -> Text,
        subject -> Text,
        body -> Text,
        created_at -> Timestamptz,
        attempts -> Int4,
        next_attempt_at -> Timestamptz,
        claimed_until -> Nullable<Timestamptz>,
        sent_at -> Nullable<Timestamptz>,
        last_error -> Nullable<Text>,
        dedup_key -> Nullable<Text>,
    }
}

diesel::table! {
    staff (id) {
        id -> Uuid,
        email -> Text,
        full_name -> Text,
        role -> Text,
        password_hash -> Nullable<Text>,
        active -> Bool,
        created_at -> Timestamptz,
        token_version -> Int8,
    }
}

diesel::table! {
    staff_invitations (token_hash) {
        token_hash -> Text,
        staff_id -> Uuid,
        expires_at -> Timestamptz,
        used_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    payments (id) {
        id -> Uuid,
        dossier_id -> Int8,
        amount_vnd -> Int8,
        provider -> Text,
        reference -> Text,
        status -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    ratings (dossier_id) {
        dossier_id -> Int8,
        score -> Int2,
        comment -> Nullable<Text>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    logo (id) {
        id -> Int2,
        content_type -> Text,
        data -> Bytea,
        updated_at -> Timestamptz,
    }
}

diesel::joinable!(dossier_events -> dossiers (dossier_id));
diesel::joinable!(attachments -> dossiers (dossier_id));
diesel::allow_tables_to_appear_in_same_query!(dossiers, dossier_events, attachments, blobs);
diesel::allow_tables_to_appear_in_same_query!(dossiers, dossier_results);
diesel::joinable!(dossier_results -> dossiers (dossier_id));

// Fee e-receipts and their gapless counters (tenant schema).
diesel::table! {
    fee_receipt_counters (series, year) {
        series -> Text,
        year -> Int8,
        last_number -> Int8,
    }
}

diesel::table! {
    fee_receipts (id) {
        id -> Int8,
        dossier_id -> Int8,
        template -> Text,
        series -> Text,
        year -> Int4,
        number -> Int8,
        issued_on -> Date,
        issued_at -> Timestamptz,
        issuer_name -> Text,
        payer_name -> Text,
        procedure_code -> Text,
        description -> Text,
        amount_vnd -> Int8,
        amount_words -> Text,
        legal_basis -> Text,
        payment_method -> Text,
        payment_reference -> Nullable<Text>,
        replaces_id -> Nullable<Int8>,
        voided_at -> Nullable<Timestamptz>,
        voided_by -> Nullable<Text>,
        void_reason -> Nullable<Text>,
    }
}

diesel::joinable!(fee_receipts -> dossiers (dossier_id));
diesel::allow_tables_to_appear_in_same_query!(dossiers, fee_receipts);

// The province's receiving bank account for fees paid by transfer (tenant schema, one row).
diesel::table! {
    payment_account (id) {
        id -> Int8,
        bank_bin -> Text,
        account_number -> Text,
        account_name -> Text,
        updated_at -> Timestamptz,
    }
}

// Failed anonymous tracking lookups, per code and per client (tenant schema).
diesel::table! {
    tracking_failures (id) {
        id -> Int8,
        tracking_code -> Text,
        client -> Text,
        at -> Timestamptz,
    }
}

// National accounts (schema `identity`), reached through the control-plane door.
diesel::table! {
    identity.citizens (id) {
        id -> Uuid,
        email -> Nullable<Text>,
        full_name -> Text,
        password_hash -> Nullable<Text>,
        active -> Bool,
        created_at -> Timestamptz,
        token_version -> Int8,
        citizen_id -> Nullable<Text>,
        birth_date -> Nullable<Date>,
    }
}

diesel::table! {
    identity.citizen_provinces (citizen_id, tenant_id) {
        citizen_id -> Uuid,
        tenant_id -> Uuid,
        since -> Timestamptz,
    }
}
diesel::allow_tables_to_appear_in_same_query!(citizens, citizen_provinces);

// One-time codes that hand a national session to a province's site (#17.3).
diesel::table! {
    identity.session_handoffs (code_hash) {
        code_hash -> Bytea,
        citizen_id -> Uuid,
        tenant_id -> Uuid,
        nonce_hash -> Bytea,
        loa -> Int2,
        token_version -> Int8,
        expires_at -> Timestamptz,
    }
}

diesel::table! {
    identity.sign_in_failures (id) {
        id -> Int8,
        key -> Text,
        at -> Timestamptz,
    }
}

// The working-day calendar's overrides (schema `public`), through the control-plane door.
diesel::table! {
    calendar_days (day) {
        day -> Date,
        kind -> Text,
        note -> Text,
        updated_at -> Timestamptz,
    }
}

// Leasing and metering (schema `public`).
diesel::table! {
    plan_metrics (plan_code, metric) {
        plan_code -> Text,
        metric -> Text,
        included -> Int8,
        unit_price_vnd -> Int8,
        hard_cap -> Nullable<Int8>,
    }
}

diesel::table! {
    leases (id) {
        id -> Int8,
        tenant_id -> Uuid,
        plan_code -> Text,
        starts_on -> Date,
        created_at -> Timestamptz,
        created_by -> Text,
        last_day -> Nullable<Date>,
        lapse_suspended_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    subscription_requests (id) {
        id -> Uuid,
        province_name -> Text,
        slug -> Text,
        contact_email -> Text,
        plan_code -> Text,
        status -> Text,
        reason -> Nullable<Text>,
        created_at -> Timestamptz,
        decided_at -> Nullable<Timestamptz>,
        decided_by -> Nullable<Text>,
        tenant_id -> Nullable<Uuid>,
        verified_at -> Nullable<Timestamptz>,
        verify_token_hash -> Nullable<Text>,
        verify_expires_at -> Nullable<Timestamptz>,
        client -> Nullable<Text>,
    }
}

diesel::table! {
    usage_events (id) {
        id -> Int8,
        tenant_id -> Uuid,
        metric -> Text,
        quantity -> Int8,
        occurred_at -> Timestamptz,
        received_at -> Timestamptz,
        idempotency_key -> Text,
    }
}

diesel::table! {
    usage_daily (tenant_id, metric, day) {
        tenant_id -> Uuid,
        metric -> Text,
        day -> Date,
        quantity -> Int8,
    }
}

diesel::table! {
    usage_period (tenant_id, metric, period) {
        tenant_id -> Uuid,
        metric -> Text,
        period -> Text,
        quantity -> Int8,
        notified -> Int4,
    }
}

diesel::allow_tables_to_appear_in_same_query!(plan_metrics, tenants);
diesel::allow_tables_to_appear_in_same_query!(plan_metrics, plans);

// Billing (schema `public`).
diesel::table! {
    vat_rates (effective_from) {
        effective_from -> Date,
        rate_bp -> Int4,
        note -> Text,
    }
}

diesel::table! {
    invoice_counters (year) {
        year -> Int4,
        last_number -> Int4,
    }
}

diesel::table! {
    invoices (id) {
        id -> Uuid,
        number -> Text,
        tenant_id -> Uuid,
        period -> Text,
        status -> Text,
        subtotal_vnd -> Int8,
        vat_rate_bp -> Int4,
        vat_vnd -> Int8,
        total_vnd -> Int8,
        issued_at -> Timestamptz,
        paid_at -> Nullable<Timestamptz>,
        payment_reference -> Nullable<Text>,
        voided_at -> Nullable<Timestamptz>,
        void_reason -> Nullable<Text>,
        provider_ref -> Nullable<Text>,
        provider_status -> Nullable<Text>,
        provider_error -> Nullable<Text>,
        provider_attempts -> Int4,
        provider_sent_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    provider_customers (tenant_id, provider) {
        tenant_id -> Uuid,
        provider -> Text,
        customer_ref -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    invoice_lines (invoice_id, position) {
        invoice_id -> Uuid,
        position -> Int4,
        description -> Text,
        metric -> Nullable<Text>,
        quantity -> Int8,
        unit_price_vnd -> Int8,
        amount_vnd -> Int8,
    }
}

diesel::table! {
    billed_usage (invoice_id, period, metric) {
        invoice_id -> Uuid,
        tenant_id -> Uuid,
        period -> Text,
        metric -> Text,
        quantity -> Int8,
    }
}

diesel::table! {
    credit_notes (id) {
        id -> Uuid,
        number -> Text,
        invoice_id -> Uuid,
        amount_vnd -> Int8,
        reason -> Text,
        created_at -> Timestamptz,
        created_by -> Text,
    }
}

diesel::table! {
    period_closes (period) {
        period -> Text,
        closed_at -> Timestamptz,
        closed_by -> Text,
    }
}

diesel::joinable!(invoice_lines -> invoices (invoice_id));
diesel::allow_tables_to_appear_in_same_query!(invoices, invoice_lines, tenants);
diesel::allow_tables_to_appear_in_same_query!(leases, plans);
diesel::joinable!(invoices -> tenants (tenant_id));
diesel::joinable!(provider_customers -> tenants (tenant_id));
diesel::allow_tables_to_appear_in_same_query!(provider_customers, tenants);

diesel::table! {
    provider_events (id) {
        id -> Text,
        provider -> Text,
        kind -> Text,
        payload -> Jsonb,
        received_at -> Timestamptz,
        outcome -> Text,
    }
}

diesel::table! {
    einvoice_buyers (tenant_id) {
        tenant_id -> Uuid,
        name -> Text,
        tax_code -> Nullable<Text>,
        budget_unit_code -> Nullable<Text>,
        address -> Text,
        email -> Nullable<Text>,
        updated_at -> Timestamptz,
        updated_by -> Text,
    }
}

diesel::table! {
    einvoice_counters (series) {
        series -> Text,
        last_number -> Int4,
    }
}

diesel::table! {
    einvoices (id) {
        id -> Uuid,
        invoice_id -> Uuid,
        kind -> Text,
        related_id -> Nullable<Uuid>,
        idempotency_key -> Text,
        template -> Text,
        series -> Text,
        number -> Int4,
        issued_on -> Date,
        status -> Text,
        provider -> Text,
        provider_number -> Nullable<Text>,
        authority_code -> Nullable<Text>,
        lookup_code -> Nullable<Text>,
        xml -> Text,
        xml_sha256 -> Text,
        pdf -> Nullable<Binary>,
        attempts -> Int4,
        last_error -> Nullable<Text>,
        mailed_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        issued_at -> Nullable<Timestamptz>,
    }
}

diesel::joinable!(einvoice_buyers -> tenants (tenant_id));
diesel::joinable!(einvoices -> invoices (invoice_id));
diesel::allow_tables_to_appear_in_same_query!(einvoice_buyers, tenants);
diesel::allow_tables_to_appear_in_same_query!(einvoices, invoices);
