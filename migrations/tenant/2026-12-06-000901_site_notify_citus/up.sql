-- On Citus a province's tables live on a worker and their triggers run there: a NOTIFY sent
-- there reaches no listener (the replicas listen on the coordinator), and a transaction that
-- also wrote the control plane is committed in two phases, which PostgreSQL refuses after a
-- NOTIFY ("cannot PREPARE a transaction that has executed … NOTIFY"). So where Citus is
-- installed the trigger stays quiet; the replica that changed the site forgets it at once and
-- tells the others from the coordinator (app::province_admin), and every entry expires after
-- five minutes anyway (tenancy::site_cache::MAX_AGE). On one PostgreSQL nothing changes.
CREATE OR REPLACE FUNCTION notify_site_changed() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'citus') THEN
        PERFORM pg_notify('portal_site', TG_TABLE_SCHEMA);
    END IF;
    RETURN NULL;
END
$$;
