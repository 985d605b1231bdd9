DROP INDEX subscription_requests_unverified_client;
DROP INDEX subscription_requests_unverified_email;
DROP INDEX subscription_requests_listed;
DROP INDEX subscription_requests_token;
DROP INDEX subscription_requests_held_slug;
DELETE FROM subscription_requests WHERE verified_at IS NULL OR status = 'expired';
CREATE UNIQUE INDEX subscription_requests_pending_slug ON subscription_requests (slug) WHERE status = 'pending';
ALTER TABLE subscription_requests DROP CONSTRAINT subscription_requests_status_check;
ALTER TABLE subscription_requests ADD CONSTRAINT subscription_requests_status_check
    CHECK (status IN ('pending', 'approved', 'declined'));
ALTER TABLE subscription_requests
    DROP COLUMN client, DROP COLUMN verify_expires_at, DROP COLUMN verify_token_hash,
    DROP COLUMN verified_at;
