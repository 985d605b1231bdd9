-- Which catalog procedures this province offers. No row = enabled, so a procedure added to
-- the national catalog is offered everywhere without touching any province.
CREATE TABLE procedure_settings (
    code       text PRIMARY KEY,
    enabled    boolean NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE dossiers (
    id                  bigserial PRIMARY KEY,
    tracking_code       text NOT NULL UNIQUE,
    -- A catalog code, not a foreign key: the catalog lives in the binary.
    procedure_code      text NOT NULL,
    -- The national account (identity.citizens.id); no cross-schema foreign key.
    citizen_id          uuid,
    applicant_name      text NOT NULL,
    applicant_id_number text NOT NULL CHECK (applicant_id_number ~ '^[0-9]{12}$'),
    contact_email       text,
    channel             text NOT NULL CHECK (channel IN ('online', 'counter')),
    status              text NOT NULL,
    answers             jsonb NOT NULL,
    lang                text NOT NULL DEFAULT 'vi' CHECK (lang IN ('vi', 'en')),
    fee_vnd             bigint NOT NULL DEFAULT 0 CHECK (fee_vnd >= 0),
    due_on              date,
    -- Set while the legal clock is stopped (supplement or payment requested).
    clock_stopped_on    date,
    submitted_at        timestamptz NOT NULL DEFAULT now(),
    decided_at          timestamptz,
    updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX dossiers_citizen ON dossiers (citizen_id, submitted_at DESC);
CREATE INDEX dossiers_status_due ON dossiers (status, due_on);
CREATE INDEX dossiers_id_number ON dossiers (applicant_id_number);

-- The history of a dossier: append-only.
CREATE TABLE dossier_events (
    id         bigserial PRIMARY KEY,
    dossier_id bigint NOT NULL REFERENCES dossiers (id),
    at         timestamptz NOT NULL DEFAULT now(),
    action     text NOT NULL,
    status     text NOT NULL,
    note       text,
    actor      text NOT NULL
);
CREATE INDEX dossier_events_dossier ON dossier_events (dossier_id, id);
CREATE FUNCTION dossier_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'dossier history is append-only';
END $$;
CREATE TRIGGER dossier_events_no_change BEFORE UPDATE OR DELETE ON dossier_events
    FOR EACH ROW EXECUTE FUNCTION dossier_events_append_only();

-- File contents, behind the blob-store trait (another store can replace this table).
CREATE TABLE blobs (
    id         uuid PRIMARY KEY,
    data       bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE attachments (
    id           uuid PRIMARY KEY,
    dossier_id   bigint NOT NULL REFERENCES dossiers (id),
    field        text,
    name         text NOT NULL,
    content_type text NOT NULL CHECK (content_type IN ('application/pdf', 'image/jpeg', 'image/png')),
    size         bigint NOT NULL CHECK (size > 0),
    sha256       text NOT NULL,
    blob_id      uuid NOT NULL REFERENCES blobs (id),
    uploaded_by  text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX attachments_dossier ON attachments (dossier_id);

-- Transactional outbox: a mail is written in the same transaction as the event it announces.
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
    last_error      text
);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE sent_at IS NULL;
