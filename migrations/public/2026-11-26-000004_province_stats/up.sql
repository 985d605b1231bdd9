-- The national evaluation index, per province and month: counts only, no personal data.
-- Written by the index job from each province's dossier history (never by hand).
CREATE TABLE province_stats (
    tenant_id       uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    period          text NOT NULL CHECK (period ~ '^[0-9]{4}-[0-9]{2}$'),
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
    PRIMARY KEY (tenant_id, period)
);
CREATE INDEX province_stats_period ON province_stats (period);
