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
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
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
