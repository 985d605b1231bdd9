ALTER TABLE leases DROP COLUMN lapse_suspended_at;
