-- The evaluation index per unit inside a province (communes, wards, special zones, departments,
-- the provincial centre and its branches), per month: counts only, no personal data. Written by
-- the index job from each province's dossier history in the same run as `province_stats`, so the
-- national host reads the drill-down without entering a province's schema.
-- One row per unit in force (even with nothing to count), per retired unit with something to
-- count, and one with `unit_code` null for the province level (dossiers with no unit), when it
-- has something to count. Name and kind are as they were when the month was computed.
CREATE TABLE unit_stats (
    tenant_id       uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    period          text NOT NULL CHECK (period ~ '^[0-9]{4}-[0-9]{2}$'),
    unit_code       text CHECK (unit_code ~ '^[0-9]{5}$' OR unit_code ~ '^[A-Z0-9-]{2,20}$'),
    unit_name       text NOT NULL,
    unit_kind       text CHECK (unit_kind IN ('commune', 'ward', 'special_zone', 'department', 'centre', 'branch')),
    retired         boolean NOT NULL DEFAULT false,
    received        integer NOT NULL DEFAULT 0,
    received_online integer NOT NULL DEFAULT 0,
    informed        integer NOT NULL DEFAULT 0,
    decided         integer NOT NULL DEFAULT 0,
    decided_on_time integer NOT NULL DEFAULT 0,
    fee_requested   integer NOT NULL DEFAULT 0,
    paid_online     integer NOT NULL DEFAULT 0,
    rated           integer NOT NULL DEFAULT 0,
    satisfied       integer NOT NULL DEFAULT 0,
    computed_at     timestamptz NOT NULL DEFAULT now(),
    CHECK ((unit_code IS NULL) = (unit_kind IS NULL)),
    CONSTRAINT unit_stats_key UNIQUE NULLS NOT DISTINCT (tenant_id, period, unit_code)
);
