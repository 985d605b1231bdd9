-- Which provinces hold any dossier of a national account: "my dossiers" on the national site
-- asks only these (one query per province that holds one, never a fan-out to every province).
-- Written before the dossier is filed (a row without a dossier costs one empty query; a
-- dossier without a row would be missing from the list), and by imports.
CREATE TABLE identity.citizen_provinces (
    citizen_id uuid NOT NULL REFERENCES identity.citizens (id),
    tenant_id  uuid NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
    since      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (citizen_id, tenant_id)
);
