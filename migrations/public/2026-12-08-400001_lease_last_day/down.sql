ALTER TABLE leases DROP CONSTRAINT leases_last_day_not_before_start;
ALTER TABLE leases DROP COLUMN last_day;
