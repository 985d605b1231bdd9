-- When the plan job suspended the province because this lease ended (its `last_day` passed and
-- no later lease starts). NULL: not done (yet). Set once, so an operator who resumes the
-- province afterwards is not overruled the next run; ending the lease again (a new last day)
-- clears it. Nullable, no default: no rewrite.
ALTER TABLE leases ADD COLUMN lapse_suspended_at timestamptz;
