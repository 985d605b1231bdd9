-- A province's look within the national layout: one row, validated by the application.
CREATE TABLE branding (
    id           smallint PRIMARY KEY DEFAULT 1 CHECK (id = 1),
    display_name text NOT NULL,
    accent_color text NOT NULL DEFAULT '#0b5394',
    hotline      text NOT NULL DEFAULT '',
    address      text NOT NULL DEFAULT '',
    banner       text NOT NULL DEFAULT '',
    updated_at   timestamptz NOT NULL DEFAULT now()
);
