-- A per-account token version (#24.4): every access token carries the version of its account
-- when it was issued, and is refused once the account's version has moved on. Signing out, a
-- new password and a (de)activation add one, which revokes every older token on every replica.
ALTER TABLE identity.citizens ADD COLUMN token_version bigint NOT NULL DEFAULT 0;
ALTER TABLE operators ADD COLUMN token_version bigint NOT NULL DEFAULT 0;
