-- Back to one grant per province. The shared role stays: other databases may use it.
DO $$
DECLARE r record;
BEGIN
    FOR r IN SELECT role_name FROM tenants LOOP
        EXECUTE format('GRANT EXECUTE ON FUNCTION record_usage(text, bigint, text, timestamptz) TO %I', r.role_name);
        EXECUTE format('GRANT EXECUTE ON FUNCTION usage_threshold(text, timestamptz) TO %I', r.role_name);
        EXECUTE format('REVOKE portal_tenants FROM %I', r.role_name);
    END LOOP;
END $$;
REVOKE EXECUTE ON FUNCTION record_usage(text, bigint, text, timestamptz) FROM portal_tenants;
REVOKE EXECUTE ON FUNCTION usage_threshold(text, timestamptz) FROM portal_tenants;
