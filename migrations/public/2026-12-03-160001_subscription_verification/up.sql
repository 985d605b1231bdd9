-- A subscription request is unverified until its contact address follows the link mailed to
-- it (#15 finding 8). Unverified requests are not listed to the operator and hold no slug; a
-- verified pending request holds its slug (for `subscriptions.hold_days`, then a newer verified
-- request may take it and the older one is marked `expired`).
ALTER TABLE subscription_requests
    ADD COLUMN verified_at        timestamptz,
    -- SHA-256 of the one-time token (hex); the token itself exists only in the mail.
    ADD COLUMN verify_token_hash  text,
    ADD COLUMN verify_expires_at  timestamptz,
    -- The client (address) that filed it, for the per-client cap on unverified requests.
    ADD COLUMN client             text;
-- Requests filed before verification existed were listed already: they count as verified.
UPDATE subscription_requests SET verified_at = created_at;
ALTER TABLE subscription_requests DROP CONSTRAINT subscription_requests_status_check;
ALTER TABLE subscription_requests ADD CONSTRAINT subscription_requests_status_check
    CHECK (status IN ('pending', 'approved', 'declined', 'expired'));
DROP INDEX subscription_requests_pending_slug;
CREATE UNIQUE INDEX subscription_requests_held_slug ON subscription_requests (slug)
    WHERE status = 'pending' AND verified_at IS NOT NULL;
CREATE UNIQUE INDEX subscription_requests_token ON subscription_requests (verify_token_hash)
    WHERE verify_token_hash IS NOT NULL;
-- The operator's pages (newest first, keyset) and the caps' counts.
CREATE INDEX subscription_requests_listed ON subscription_requests (created_at DESC, id DESC)
    WHERE verified_at IS NOT NULL;
CREATE INDEX subscription_requests_unverified_email ON subscription_requests (lower(contact_email))
    WHERE verified_at IS NULL;
CREATE INDEX subscription_requests_unverified_client ON subscription_requests (client, created_at)
    WHERE verified_at IS NULL;
