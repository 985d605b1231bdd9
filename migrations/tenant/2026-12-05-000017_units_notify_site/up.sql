-- The national "where can I file this" page keeps each province's units and procedure
-- mapping in memory beside its site data (tenancy::site_cache): a change to either tells every
-- replica to forget this province's entry, as branding and procedure switches already do.
CREATE TRIGGER units_changed AFTER INSERT OR UPDATE OR DELETE ON units
    FOR EACH STATEMENT EXECUTE FUNCTION notify_site_changed();
CREATE TRIGGER procedure_units_changed AFTER INSERT OR UPDATE OR DELETE ON procedure_units
    FOR EACH STATEMENT EXECUTE FUNCTION notify_site_changed();
