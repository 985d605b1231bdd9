DROP TABLE ratings, payments, staff_invitations, staff;
ALTER TABLE dossiers DROP COLUMN handler_id, DROP COLUMN due_flag;
