-- Applications in progress on the HTML pages: one per citizen and procedure, answers kept
-- server-side between the pages, files kept until the dossier is submitted.
CREATE TABLE drafts (
    id             bigserial PRIMARY KEY,
    -- The national account (identity.citizens.id); no cross-schema foreign key.
    citizen_id     uuid NOT NULL,
    -- A catalog code, not a foreign key: the catalog lives in the binary.
    procedure_code text NOT NULL,
    answers        jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(answers) = 'object'),
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (citizen_id, procedure_code)
);
-- For sweeping abandoned drafts.
CREATE INDEX drafts_updated ON drafts (updated_at);

-- One file per document of the form; on submission each becomes an attachment (and a blob)
-- of the new dossier, and the draft's rows go with the draft.
CREATE TABLE draft_files (
    id           uuid PRIMARY KEY,
    draft_id     bigint NOT NULL REFERENCES drafts (id) ON DELETE CASCADE,
    field        text NOT NULL,
    name         text NOT NULL,
    content_type text NOT NULL CHECK (content_type IN ('application/pdf', 'image/jpeg', 'image/png')),
    size         bigint NOT NULL CHECK (size > 0),
    data         bytea NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (draft_id, field)
);
