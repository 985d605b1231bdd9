DROP INDEX dossiers_received_at;
DROP INDEX dossiers_competent_due;
ALTER TABLE dossiers DROP COLUMN assignee_id, DROP COLUMN competent_unit, DROP COLUMN received_at_unit;
ALTER TABLE staff DROP CONSTRAINT staff_role_check;
ALTER TABLE staff ADD CONSTRAINT staff_role_check CHECK (role IN ('official', 'admin'));
DROP TABLE staff_units;
DROP TABLE procedure_units;
DROP TABLE units;
