-- One sign-in for every site (#17.3): the national site hands a signed-in citizen to a
-- province's site with a one-time code. The province's session is then a token for that
-- province only (aud-bound); no token ever crosses hosts, only this code, which is:
--   * one-time (redeemed by DELETE … RETURNING),
--   * short-lived (expires_at, a minute),
--   * for one province (tenant_id) and one browser (nonce_hash: the hash of a random value
--     the province put in a cookie of its own before sending the browser to the national site,
--     so a code planted in someone else's browser signs nobody in there).
CREATE TABLE identity.session_handoffs (
    code_hash     bytea       PRIMARY KEY,
    citizen_id    uuid        NOT NULL REFERENCES identity.citizens (id) ON DELETE CASCADE,
    tenant_id     uuid        NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
    nonce_hash    bytea       NOT NULL,
    loa           smallint    NOT NULL CHECK (loa IN (1, 2)),
    token_version bigint      NOT NULL,
    expires_at    timestamptz NOT NULL
);
CREATE INDEX session_handoffs_expires ON identity.session_handoffs (expires_at);
