-- One credit note per invoice (#15.5): six voids raced into five credit notes for one invoice.
-- A void now locks the invoice and changes it only from `finalized`; this makes a second
-- credit note impossible whatever the code does. (Should an older race have left duplicates,
-- this migration stops with a unique violation: settle them by hand, then migrate.)
-- It once shared its version (2026-12-03-000001) with token_version, so diesel ran only one
-- of the two: a database where this one ran already has the constraint, hence the check.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'credit_notes_one_per_invoice') THEN
        ALTER TABLE credit_notes ADD CONSTRAINT credit_notes_one_per_invoice UNIQUE (invoice_id);
    END IF;
END $$;
