-- Tell every replica when what its site cache holds changes: the payload is this schema's
-- name, so only this province's entry is forgotten. Statement-level: one notification per
-- change, delivered at commit (and not at all on rollback).
CREATE FUNCTION notify_site_changed() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('portal_site', TG_TABLE_SCHEMA);
    RETURN NULL;
END
$$;

CREATE TRIGGER branding_changed AFTER INSERT OR UPDATE OR DELETE ON branding
    FOR EACH STATEMENT EXECUTE FUNCTION notify_site_changed();
CREATE TRIGGER logo_changed AFTER INSERT OR UPDATE OR DELETE ON logo
    FOR EACH STATEMENT EXECUTE FUNCTION notify_site_changed();
CREATE TRIGGER procedure_settings_changed AFTER INSERT OR UPDATE OR DELETE ON procedure_settings
    FOR EACH STATEMENT EXECUTE FUNCTION notify_site_changed();
