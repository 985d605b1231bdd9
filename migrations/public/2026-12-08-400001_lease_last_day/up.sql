-- A lease may end: `last_day` is the last day it is billed (inclusive). NULL, as before, runs
-- until the next lease of the province starts (or for ever). Nullable, no default: no rewrite.
ALTER TABLE leases ADD COLUMN last_day date;
ALTER TABLE leases ADD CONSTRAINT leases_last_day_not_before_start
    CHECK (last_day IS NULL OR last_day >= starts_on);
