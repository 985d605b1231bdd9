-- A mail that must go once (e.g. the daily overdue digest for one official on one day) carries
-- a key; a second attempt to queue it is a no-op, however many workers try.
ALTER TABLE outbox ADD COLUMN dedup_key text UNIQUE;
