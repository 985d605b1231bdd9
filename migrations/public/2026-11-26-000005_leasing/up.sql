-- Leased capacity: what each plan includes per metric, leases over time, subscription
-- requests, and exact usage metering.

CREATE TABLE plan_metrics (
    plan_code      text NOT NULL REFERENCES plans (code) ON DELETE CASCADE,
    metric         text NOT NULL CHECK (metric IN ('dossiers', 'storage_bytes', 'api_calls', 'emails', 'seats')),
    included       bigint NOT NULL CHECK (included >= 0),
    -- Per unit; for storage_bytes the unit is one started GiB over the allowance.
    unit_price_vnd bigint NOT NULL CHECK (unit_price_vnd >= 0),
    hard_cap       bigint CHECK (hard_cap IS NULL OR hard_cap >= 0),
    PRIMARY KEY (plan_code, metric)
);

-- Placeholder prices (VND, VAT excluded) until the operator sets real ones.
INSERT INTO plan_metrics (plan_code, metric, included, unit_price_vnd, hard_cap) VALUES
    ('basic',    'dossiers',      3000,        1500,   NULL),
    ('basic',    'storage_bytes', 53687091200, 20000,  107374182400),
    ('basic',    'api_calls',     1000000,     1,      NULL),
    ('basic',    'emails',        20000,       100,    NULL),
    ('basic',    'seats',         30,          150000, 60),
    ('standard', 'dossiers',      15000,       1200,   NULL),
    ('standard', 'storage_bytes', 214748364800, 15000, NULL),
    ('standard', 'api_calls',     5000000,     1,      NULL),
    ('standard', 'emails',        100000,      80,     NULL),
    ('standard', 'seats',         150,         120000, 300),
    ('premium',  'dossiers',      60000,       1000,   NULL),
    ('premium',  'storage_bytes', 1099511627776, 10000, NULL),
    ('premium',  'api_calls',     20000000,    1,      NULL),
    ('premium',  'emails',        400000,      60,     NULL),
    ('premium',  'seats',         600,         100000, NULL);

-- A province's plan over time: each lease runs from `starts_on` until the next one starts.
CREATE TABLE leases (
    id         bigserial PRIMARY KEY,
    tenant_id  uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    plan_code  text NOT NULL REFERENCES plans (code),
    starts_on  date NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    created_by text NOT NULL,
    UNIQUE (tenant_id, starts_on)
);
INSERT INTO leases (tenant_id, plan_code, starts_on, created_by)
    SELECT id, plan_code, (created_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date, 'migration' FROM tenants;

CREATE TABLE subscription_requests (
    id            uuid PRIMARY KEY,
    province_name text NOT NULL,
    slug          text NOT NULL,
    contact_email text NOT NULL,
    plan_code     text NOT NULL REFERENCES plans (code),
    status        text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'declined')),
    reason        text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    decided_at    timestamptz,
    decided_by    text,
    tenant_id     uuid REFERENCES tenants (id) ON DELETE SET NULL
);
CREATE UNIQUE INDEX subscription_requests_pending_slug ON subscription_requests (slug) WHERE status = 'pending';

-- One row per counted fact; the key comes from the fact itself, so it is counted once.
CREATE TABLE usage_events (
    id              bigserial PRIMARY KEY,
    tenant_id       uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    metric          text NOT NULL,
    quantity        bigint NOT NULL,
    occurred_at     timestamptz NOT NULL,
    received_at     timestamptz NOT NULL DEFAULT now(),
    idempotency_key text NOT NULL,
    UNIQUE (tenant_id, idempotency_key)
);
CREATE INDEX usage_events_tenant_metric_time ON usage_events (tenant_id, metric, occurred_at);

-- Roll-ups kept in step with the events (same statement), so usage queries never scan events.
-- Counters (dossiers, api_calls, emails) add up; gauges (storage_bytes, seats) keep the maximum.
CREATE TABLE usage_daily (
    tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    metric    text NOT NULL,
    day       date NOT NULL,
    quantity  bigint NOT NULL,
    PRIMARY KEY (tenant_id, metric, day)
);
CREATE TABLE usage_period (
    tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    metric    text NOT NULL,
    period    text NOT NULL,
    quantity  bigint NOT NULL,
    -- Highest share of the allowance already announced to the admin (80 or 100).
    notified  integer NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, metric, period)
);

-- Records one fact for a tenant. Returns the period's new total, or NULL when the key was
-- seen before. Raises `quota_exceeded:<metric>:<cap>` (and so rolls the caller's whole
-- transaction back) when the plan's hard cap would be passed; the period row is locked by
-- the upsert, so concurrent callers are checked one after the other.
CREATE FUNCTION usage_add(p_tenant uuid, p_metric text, p_quantity bigint, p_key text, p_at timestamptz)
RETURNS bigint LANGUAGE plpgsql SET search_path = public AS $$
DECLARE
    v_gauge  boolean := p_metric IN ('storage_bytes', 'seats');
    v_local  timestamp := p_at AT TIME ZONE 'Asia/Ho_Chi_Minh';
    v_period text := to_char(v_local, 'YYYY-MM');
    v_total  bigint;
    v_cap    bigint;
BEGIN
    INSERT INTO usage_events (tenant_id, metric, quantity, occurred_at, idempotency_key)
    VALUES (p_tenant, p_metric, p_quantity, p_at, p_key)
    ON CONFLICT (tenant_id, idempotency_key) DO NOTHING;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    INSERT INTO usage_period AS u (tenant_id, metric, period, quantity)
    VALUES (p_tenant, p_metric, v_period, p_quantity)
    ON CONFLICT (tenant_id, metric, period) DO UPDATE
        SET quantity = CASE WHEN v_gauge THEN greatest(u.quantity, excluded.quantity)
                            ELSE u.quantity + excluded.quantity END
    RETURNING quantity INTO v_total;
    SELECT pm.hard_cap INTO v_cap
      FROM tenants t JOIN plan_metrics pm ON pm.plan_code = t.plan_code AND pm.metric = p_metric
     WHERE t.id = p_tenant;
    IF v_cap IS NOT NULL AND (CASE WHEN v_gauge THEN p_quantity ELSE v_total END) > v_cap THEN
        RAISE EXCEPTION 'quota_exceeded:%:%', p_metric, v_cap USING ERRCODE = 'P0001';
    END IF;
    INSERT INTO usage_daily AS d (tenant_id, metric, day, quantity)
    VALUES (p_tenant, p_metric, v_local::date, p_quantity)
    ON CONFLICT (tenant_id, metric, day) DO UPDATE
        SET quantity = CASE WHEN v_gauge THEN greatest(d.quantity, excluded.quantity)
                            ELSE d.quantity + excluded.quantity END;
    RETURN v_total;
END $$;
REVOKE ALL ON FUNCTION usage_add(uuid, text, bigint, text, timestamptz) FROM PUBLIC;

-- The door for tenant transactions: the tenant is the one whose role the transaction has
-- taken, so a province can only ever count for itself.
CREATE FUNCTION record_usage(p_metric text, p_quantity bigint, p_key text, p_at timestamptz)
RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
DECLARE
    v_tenant uuid;
BEGIN
    SELECT id INTO v_tenant FROM tenants WHERE role_name = current_setting('role');
    IF v_tenant IS NULL THEN
        RAISE EXCEPTION 'record_usage: not inside a tenant transaction';
    END IF;
    RETURN usage_add(v_tenant, p_metric, p_quantity, p_key, p_at);
END $$;
REVOKE ALL ON FUNCTION record_usage(text, bigint, text, timestamptz) FROM PUBLIC;

-- Existing provinces may call it; new ones are granted it when provisioned.
DO $$
DECLARE r record;
BEGIN
    FOR r IN SELECT role_name FROM tenants LOOP
        EXECUTE format('GRANT EXECUTE ON FUNCTION record_usage(text, bigint, text, timestamptz) TO %I', r.role_name);
    END LOOP;
END $$;

-- After a count: the share of the allowance newly reached (80 or 100), at most once per
-- level and period, else 0. Same tenant rule as `record_usage`.
CREATE FUNCTION usage_threshold(p_metric text, p_at timestamptz)
RETURNS integer LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
DECLARE
    v_tenant   uuid;
    v_period   text := to_char(p_at AT TIME ZONE 'Asia/Ho_Chi_Minh', 'YYYY-MM');
    v_included bigint;
    v_level    integer;
BEGIN
    SELECT id INTO v_tenant FROM tenants WHERE role_name = current_setting('role');
    IF v_tenant IS NULL THEN
        RAISE EXCEPTION 'usage_threshold: not inside a tenant transaction';
    END IF;
    SELECT pm.included INTO v_included
      FROM tenants t JOIN plan_metrics pm ON pm.plan_code = t.plan_code AND pm.metric = p_metric
     WHERE t.id = v_tenant;
    IF v_included IS NULL OR v_included = 0 THEN
        RETURN 0;
    END IF;
    UPDATE usage_period u
       SET notified = CASE WHEN u.quantity >= v_included THEN 100 ELSE 80 END
     WHERE u.tenant_id = v_tenant AND u.metric = p_metric AND u.period = v_period
       AND u.quantity * 100 >= v_included * 80
       AND u.notified < CASE WHEN u.quantity >= v_included THEN 100 ELSE 80 END
    RETURNING u.notified INTO v_level;
    RETURN coalesce(v_level, 0);
END $$;
REVOKE ALL ON FUNCTION usage_threshold(text, timestamptz) FROM PUBLIC;
DO $$
DECLARE r record;
BEGIN
    FOR r IN SELECT role_name FROM tenants LOOP
        EXECUTE format('GRANT EXECUTE ON FUNCTION usage_threshold(text, timestamptz) TO %I', r.role_name);
    END LOOP;
END $$;

-- Mail of the national site and the operator (e.g. a declined subscription request), with
-- the same shape as a province's outbox so the same worker code drains it.
CREATE TABLE outbox (
    id              bigserial PRIMARY KEY,
    kind            text NOT NULL,
    dossier_id      bigint,
    to_email        text NOT NULL,
    subject         text NOT NULL,
    body            text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    claimed_until   timestamptz,
    sent_at         timestamptz,
    last_error      text,
    dedup_key       text UNIQUE
);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE sent_at IS NULL;
