-- Reorganisation (#18): a province merged into another stays as a row, emptied, with its hosts
-- and tracking-code prefix, so old links and codes lead to the successor. `merged_on` is the
-- plan's effective date: its lease ends there (billing clamps its segments to it).
ALTER TABLE tenants DROP CONSTRAINT tenants_status_check;
ALTER TABLE tenants ADD CONSTRAINT tenants_status_check
    CHECK (status IN ('active', 'suspended', 'merged'));
ALTER TABLE tenants
    ADD COLUMN successor_id uuid REFERENCES tenants (id),
    ADD COLUMN merged_on    date,
    -- Names the province was known by (a rename, provinces merged into it): the national
    -- search still finds it by them.
    ADD COLUMN former_names text[] NOT NULL DEFAULT '{}';
ALTER TABLE tenants ADD CONSTRAINT tenants_merged_has_successor
    CHECK ((status = 'merged') = (successor_id IS NOT NULL AND merged_on IS NOT NULL));
ALTER TABLE tenants ADD CONSTRAINT tenants_not_own_successor CHECK (successor_id <> id);
