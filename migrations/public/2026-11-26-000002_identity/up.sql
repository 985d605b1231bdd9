-- National accounts of citizens: the only personal data outside a province (ARCHITECTURE.md).
CREATE SCHEMA identity;
REVOKE ALL ON SCHEMA identity FROM PUBLIC;

CREATE TABLE identity.citizens (
    id            uuid PRIMARY KEY,
    email         text NOT NULL UNIQUE CHECK (email = lower(email)),
    full_name     text NOT NULL CHECK (length(full_name) BETWEEN 1 AND 120),
    password_hash text NOT NULL,
    active        boolean NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL DEFAULT now()
);

-- Failed sign-ins, keyed by the address tried (existing account or not) so 5 failures in
-- 15 minutes slow down guessing; old rows are pruned as new ones arrive.
CREATE TABLE identity.sign_in_failures (
    id  bigserial PRIMARY KEY,
    key text NOT NULL,
    at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sign_in_failures_key_at ON identity.sign_in_failures (key, at);

-- A short code per province: the prefix of its tracking codes (HNI-2611-4F7K2Q).
ALTER TABLE tenants ADD COLUMN code text UNIQUE CHECK (code ~ '^[A-Z]{2,4}$');
