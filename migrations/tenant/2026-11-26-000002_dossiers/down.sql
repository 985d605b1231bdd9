DROP TABLE outbox, attachments, blobs, dossier_events, dossiers, procedure_settings;
DROP FUNCTION dossier_events_append_only();
