-- One credit note per invoice (#15.5): six voids raced into five credit notes for one invoice.
-- A void now locks the invoice and changes it only from `finalized`; this makes a second
-- credit note impossible whatever the code does. (Should an older race have left duplicates,
-- this migration stops with a unique violation: settle them by hand, then migrate.)
ALTER TABLE credit_notes ADD CONSTRAINT credit_notes_one_per_invoice UNIQUE (invoice_id);
