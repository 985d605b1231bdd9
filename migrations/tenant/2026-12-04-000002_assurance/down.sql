ALTER TABLE dossiers DROP COLUMN assurance_level;
