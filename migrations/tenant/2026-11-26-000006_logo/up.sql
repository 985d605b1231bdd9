-- The province's logo for the masthead: one row at most. The application accepts only PNG or
-- JPEG recognised by their bytes, 200 KB at most; the checks below hold it to that too.
CREATE TABLE logo (
    id           smallint PRIMARY KEY DEFAULT 1 CHECK (id = 1),
    content_type text NOT NULL CHECK (content_type IN ('image/png', 'image/jpeg')),
    data         bytea NOT NULL CHECK (octet_length(data) BETWEEN 1 AND 204800),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
