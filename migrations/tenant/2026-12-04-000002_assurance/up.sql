-- The assurance level (#17.2) of the session a dossier was filed online with: 1 (password or
-- national sign-in level 1) or 2 (national sign-in level 2). NULL for counter dossiers and
-- those filed before levels existed.
ALTER TABLE dossiers ADD COLUMN assurance_level smallint CHECK (assurance_level IN (1, 2));
