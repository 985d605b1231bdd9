-- The provinces' right to count usage, held by one group role instead of one ACL entry per
-- province: every GRANT rewrote the functions' ACL, which grew by one entry per province
-- (O(n) per provisioning, quadratic over thousands of communes).
--
-- Roles are cluster-wide, so every database on the cluster shares `portal_tenants`. That
-- grants nothing across databases: its only privileges are EXECUTE on these two functions,
-- which find the calling province by its role in *this* database's `tenants` and refuse
-- anyone else.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'portal_tenants') THEN
        CREATE ROLE portal_tenants NOLOGIN;
    END IF;
EXCEPTION
    -- Another database's migration created it between the check and the CREATE.
    WHEN duplicate_object OR unique_violation THEN NULL;
END $$;

GRANT EXECUTE ON FUNCTION record_usage(text, bigint, text, timestamptz) TO portal_tenants;
GRANT EXECUTE ON FUNCTION usage_threshold(text, timestamptz) TO portal_tenants;

DO $$
DECLARE r record;
BEGIN
    FOR r IN SELECT role_name FROM tenants LOOP
        EXECUTE format('GRANT portal_tenants TO %I', r.role_name);
        EXECUTE format('REVOKE EXECUTE ON FUNCTION record_usage(text, bigint, text, timestamptz) FROM %I', r.role_name);
        EXECUTE format('REVOKE EXECUTE ON FUNCTION usage_threshold(text, timestamptz) FROM %I', r.role_name);
    END LOOP;
END $$;
