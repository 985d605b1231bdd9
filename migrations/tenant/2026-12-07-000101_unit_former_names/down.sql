ALTER TABLE units DROP COLUMN former_names;
