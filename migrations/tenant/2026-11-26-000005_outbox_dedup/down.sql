ALTER TABLE outbox DROP COLUMN dedup_key;
