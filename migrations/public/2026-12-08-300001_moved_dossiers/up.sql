-- Reorganisation (issue #18): dossiers moved with their unit to another province keep their tracking
-- code, whose prefix names the province they were filed in. Tracking (province and national
-- hosts) looks a code up here first: one indexed lookup, the holder now. A code moved again is
-- updated in place.
CREATE TABLE moved_dossiers (
    tracking_code text PRIMARY KEY,
    tenant_id     uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    moved_on      date NOT NULL
);
CREATE INDEX moved_dossiers_tenant ON moved_dossiers (tenant_id);
