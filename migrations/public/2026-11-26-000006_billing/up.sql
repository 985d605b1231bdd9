-- Monthly invoices from leases and usage: VAT by effective date, gapless numbers per year,
-- immutable once finalized.

CREATE TABLE vat_rates (
    effective_from date PRIMARY KEY,
    rate_bp        integer NOT NULL CHECK (rate_bp BETWEEN 0 AND 10000),
    note           text NOT NULL DEFAULT ''
);
INSERT INTO vat_rates (effective_from, rate_bp, note) VALUES
    ('2025-07-01', 800,  'Giảm 2% thuế GTGT đến hết 31/12/2026 / VAT cut to 8% until 31 Dec 2026'),
    ('2027-01-01', 1000, 'Thuế suất GTGT 10% / standard VAT 10%');

CREATE TABLE invoice_counters (
    year        integer PRIMARY KEY,
    last_number integer NOT NULL
);

CREATE TABLE invoices (
    id                uuid PRIMARY KEY,
    number            text NOT NULL UNIQUE,
    tenant_id         uuid NOT NULL REFERENCES tenants (id),
    period            text NOT NULL CHECK (period ~ '^[0-9]{4}-[0-9]{2}$'),
    status            text NOT NULL CHECK (status IN ('finalized', 'paid', 'void')),
    subtotal_vnd      bigint NOT NULL,
    vat_rate_bp       integer NOT NULL,
    vat_vnd           bigint NOT NULL,
    total_vnd         bigint NOT NULL,
    issued_at         timestamptz NOT NULL DEFAULT now(),
    paid_at           timestamptz,
    payment_reference text,
    voided_at         timestamptz,
    void_reason       text,
    UNIQUE (tenant_id, period)
);

CREATE TABLE invoice_lines (
    invoice_id     uuid NOT NULL REFERENCES invoices (id),
    position       integer NOT NULL,
    description    text NOT NULL,
    metric         text,
    quantity       bigint NOT NULL,
    unit_price_vnd bigint NOT NULL,
    amount_vnd     bigint NOT NULL,
    PRIMARY KEY (invoice_id, position)
);

-- What each invoice billed, per usage period and metric: usage that arrives after a period
-- was closed is billed later as the difference.
CREATE TABLE billed_usage (
    invoice_id uuid NOT NULL REFERENCES invoices (id),
    tenant_id  uuid NOT NULL REFERENCES tenants (id),
    period     text NOT NULL,
    metric     text NOT NULL,
    quantity   bigint NOT NULL,
    PRIMARY KEY (invoice_id, period, metric)
);
CREATE INDEX billed_usage_tenant_period ON billed_usage (tenant_id, period, metric);

CREATE TABLE credit_notes (
    id         uuid PRIMARY KEY,
    number     text NOT NULL UNIQUE,
    invoice_id uuid NOT NULL REFERENCES invoices (id),
    amount_vnd bigint NOT NULL,
    reason     text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    created_by text NOT NULL
);

CREATE TABLE period_closes (
    period    text PRIMARY KEY,
    closed_at timestamptz NOT NULL DEFAULT now(),
    closed_by text NOT NULL
);

-- Finalized means immutable: amounts and lines never change; only the payment status does.
CREATE FUNCTION invoices_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'invoice_lines' THEN
        RAISE EXCEPTION 'invoice lines are immutable';
    END IF;
    IF NEW.number <> OLD.number OR NEW.tenant_id <> OLD.tenant_id OR NEW.period <> OLD.period
       OR NEW.subtotal_vnd <> OLD.subtotal_vnd OR NEW.vat_vnd <> OLD.vat_vnd
       OR NEW.total_vnd <> OLD.total_vnd OR NEW.vat_rate_bp <> OLD.vat_rate_bp THEN
        RAISE EXCEPTION 'invoice % is finalized and cannot change', OLD.number;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER invoices_no_change BEFORE UPDATE ON invoices FOR EACH ROW EXECUTE FUNCTION invoices_immutable();
CREATE TRIGGER invoice_lines_no_change BEFORE UPDATE OR DELETE ON invoice_lines FOR EACH ROW EXECUTE FUNCTION invoices_immutable();
