-- A per-account token version for the province's staff (#24.4, #15 Low): see the public
-- migration of the same day. A deactivation adds one, so a token from before it stays dead
-- after a reactivation.
ALTER TABLE staff ADD COLUMN token_version bigint NOT NULL DEFAULT 0;
