ALTER TABLE dossier_events DROP COLUMN override_reason;
ALTER TABLE dossier_events DROP COLUMN deficiencies;
DROP TABLE dossier_results;
