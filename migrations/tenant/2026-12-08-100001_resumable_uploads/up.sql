-- Resumable uploads (#19 item 5, docs/uploads.md): a document of a citizen's draft sent in
-- pieces, so a dropped connection costs only what was in flight. One unfinished upload per
-- draft and document (a new one replaces it); the bytes received so far are kept in order as
-- parts; on the last byte the whole file is checked and becomes the draft's file, and its
-- parts go. Abandoned uploads expire (`expires_at`, pushed on by each part) and are swept.
CREATE TABLE uploads (
    id          uuid PRIMARY KEY,
    -- The owner (identity.citizens.id; no cross-schema foreign key): every request names it.
    citizen_id  uuid NOT NULL,
    draft_id    bigint NOT NULL REFERENCES drafts (id) ON DELETE CASCADE,
    field       text NOT NULL,
    name        text NOT NULL,
    -- Declared at creation and never changed; `received` only grows to it.
    length      bigint NOT NULL CHECK (length > 0),
    received    bigint NOT NULL DEFAULT 0 CHECK (received >= 0 AND received <= length),
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    UNIQUE (draft_id, field)
);
-- The per-citizen cap on unfinished uploads, and the sweep.
CREATE INDEX uploads_citizen ON uploads (citizen_id);
CREATE INDEX uploads_expires ON uploads (expires_at);

CREATE TABLE upload_parts (
    upload_id  uuid NOT NULL REFERENCES uploads (id) ON DELETE CASCADE,
    -- The part's first byte's offset in the file.
    start      bigint NOT NULL CHECK (start >= 0),
    data       bytea NOT NULL CHECK (octet_length(data) > 0),
    PRIMARY KEY (upload_id, start)
);
