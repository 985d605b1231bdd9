-- The control plane: plans, tenants and the hosts that reach them, operator staff, audit log.
-- Unqualified names: the migrator runs with search_path = public.

CREATE TABLE plans (
    code            text PRIMARY KEY CHECK (code ~ '^[a-z][a-z0-9-]{1,29}$'),
    name            text NOT NULL,
    monthly_fee_vnd bigint NOT NULL CHECK (monthly_fee_vnd >= 0),
    rate_limit_rps  integer NOT NULL CHECK (rate_limit_rps > 0),
    rate_burst      integer NOT NULL CHECK (rate_burst > 0),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- Placeholder prices until the operator sets real ones (PUT /api/v1/plans/{code}).
INSERT INTO plans (code, name, monthly_fee_vnd, rate_limit_rps, rate_burst) VALUES
    ('basic',    'Cơ bản',    15000000,  50, 100),
    ('standard', 'Tiêu chuẩn', 40000000, 150, 300),
    ('premium',  'Nâng cao',  90000000, 400, 800);

CREATE TABLE tenants (
    id             uuid PRIMARY KEY,
    slug           text NOT NULL UNIQUE CHECK (slug ~ '^[a-z][a-z0-9-]{1,29}$' AND slug NOT LIKE 'pg%'),
    name           text NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
    status         text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
    plan_code      text NOT NULL REFERENCES plans (code),
    -- Generated once from the slug (t_<slug>) and the id (pt_<hex>); a rename keeps them.
    schema_name    text NOT NULL UNIQUE,
    role_name      text NOT NULL UNIQUE,
    -- Newest tenant migration applied: `portal migrate` finds stale tenants with one query.
    schema_version text NOT NULL DEFAULT '',
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tenants_schema_version ON tenants (schema_version);

-- `subdomain`: a label under the base domain (the slug; old slugs stay as aliases).
-- `custom`: a full host name the province owns.
CREATE TABLE tenant_domains (
    host       text PRIMARY KEY CHECK (host = lower(host) AND length(host) BETWEEN 1 AND 253),
    tenant_id  uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    kind       text NOT NULL CHECK (kind IN ('subdomain', 'custom')),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tenant_domains_tenant ON tenant_domains (tenant_id);

-- Every replica keeps the registry in memory and reloads it on this notification.
CREATE FUNCTION notify_registry() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('portal_registry', '');
    RETURN NULL;
END $$;
CREATE TRIGGER tenants_changed AFTER INSERT OR UPDATE OR DELETE ON tenants
    FOR EACH STATEMENT EXECUTE FUNCTION notify_registry();
CREATE TRIGGER tenant_domains_changed AFTER INSERT OR UPDATE OR DELETE ON tenant_domains
    FOR EACH STATEMENT EXECUTE FUNCTION notify_registry();

CREATE TABLE operators (
    id            uuid PRIMARY KEY,
    email         text NOT NULL UNIQUE CHECK (email = lower(email)),
    full_name     text NOT NULL,
    role          text NOT NULL CHECK (role IN ('operator', 'billing')),
    password_hash text NOT NULL,
    active        boolean NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE audit_log (
    id      bigserial PRIMARY KEY,
    at      timestamptz NOT NULL DEFAULT now(),
    actor   text NOT NULL,
    action  text NOT NULL,
    target  text NOT NULL,
    details jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_target ON audit_log (target, at);
