-- The province's officials and admins: they belong to this province's schema only.
CREATE TABLE staff (
    id            uuid PRIMARY KEY,
    email         text NOT NULL UNIQUE CHECK (email = lower(email)),
    full_name     text NOT NULL CHECK (length(full_name) BETWEEN 1 AND 120),
    role          text NOT NULL CHECK (role IN ('official', 'admin')),
    -- Null until the invitation is accepted.
    password_hash text,
    active        boolean NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL DEFAULT now()
);

-- One-time links to set a password; only the SHA-256 of the token is kept.
CREATE TABLE staff_invitations (
    token_hash text PRIMARY KEY,
    staff_id   uuid NOT NULL REFERENCES staff (id),
    expires_at timestamptz NOT NULL,
    used_at    timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX staff_invitations_staff ON staff_invitations (staff_id);

-- The official who accepted the dossier answers for its deadline.
ALTER TABLE dossiers ADD COLUMN handler_id uuid;
-- Set by the overdue watch: 'due_soon' (due tomorrow) or 'overdue'.
ALTER TABLE dossiers ADD COLUMN due_flag text CHECK (due_flag IN ('due_soon', 'overdue'));

-- Fees paid for dossiers (the `pay` move), by provider.
CREATE TABLE payments (
    id         uuid PRIMARY KEY,
    dossier_id bigint NOT NULL REFERENCES dossiers (id),
    amount_vnd bigint NOT NULL CHECK (amount_vnd >= 0),
    provider   text NOT NULL,
    reference  text NOT NULL,
    status     text NOT NULL CHECK (status IN ('pending', 'confirmed', 'failed')),
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (provider, reference)
);
CREATE INDEX payments_dossier ON payments (dossier_id);

-- The citizen's satisfaction, once per finished dossier.
CREATE TABLE ratings (
    dossier_id bigint PRIMARY KEY REFERENCES dossiers (id),
    score      smallint NOT NULL CHECK (score BETWEEN 1 AND 5),
    comment    text,
    created_at timestamptz NOT NULL DEFAULT now()
);
