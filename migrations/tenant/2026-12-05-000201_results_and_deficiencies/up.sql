-- The result of a dossier (issue 19): the signed PDF the citizen downloads, or the number and
-- pickup details of a paper decision. One per dossier; attaching again before `return_result`
-- replaces it. `verification_code` is what the QR code and the public verify page carry; the
-- control plane keeps an index of it (public.result_verifications) for the national host.
CREATE TABLE dossier_results (
    dossier_id        bigint PRIMARY KEY REFERENCES dossiers (id),
    kind              text NOT NULL CHECK (kind IN ('file', 'paper')),
    verification_code text NOT NULL UNIQUE,
    -- The file's bytes (file) or the decision number as written (paper), hashed.
    sha256            text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    issued_on         date NOT NULL,
    blob_id           uuid REFERENCES blobs (id),
    file_name         text,
    size              bigint CHECK (size > 0),
    decision_number   text,
    pickup            text,
    attached_by       text NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    CHECK ((kind = 'file') = (blob_id IS NOT NULL AND file_name IS NOT NULL AND size IS NOT NULL)),
    CHECK ((kind = 'paper') = (decision_number IS NOT NULL AND pickup IS NOT NULL))
);

-- A refusal or a supplement request names what is missing or wrong, one row per item
-- ({item, problem, note}); a head of unit's second supplement request keeps its reason.
-- Nullable, no default: older history rows stay as they were, without a rewrite.
ALTER TABLE dossier_events ADD COLUMN deficiencies jsonb;
ALTER TABLE dossier_events ADD COLUMN override_reason text;
