-- Payment-provider events, stored by their id so each is applied once however often it comes.
CREATE TABLE provider_events (
    id          text PRIMARY KEY,
    provider    text NOT NULL,
    kind        text NOT NULL,
    payload     jsonb NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    outcome     text NOT NULL
);
