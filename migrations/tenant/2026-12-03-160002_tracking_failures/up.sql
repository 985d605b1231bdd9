-- Failed anonymous tracking lookups (#24 finding 3): a wrong citizen ID, or a code that does
-- not exist (counted alike, so the lock does not tell them apart). Counted per code (every
-- client together) and per client within a window; rows older than the window are pruned.
CREATE TABLE tracking_failures (
    id            bigserial PRIMARY KEY,
    tracking_code text NOT NULL,
    client        text NOT NULL,
    at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tracking_failures_code ON tracking_failures (tracking_code, at);
CREATE INDEX tracking_failures_client ON tracking_failures (client, at);
CREATE INDEX tracking_failures_at ON tracking_failures (at);
