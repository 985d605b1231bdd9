ALTER TABLE tenants DROP CONSTRAINT tenants_not_own_successor;
ALTER TABLE tenants DROP CONSTRAINT tenants_merged_has_successor;
ALTER TABLE tenants DROP COLUMN former_names, DROP COLUMN merged_on, DROP COLUMN successor_id;
ALTER TABLE tenants DROP CONSTRAINT tenants_status_check;
ALTER TABLE tenants ADD CONSTRAINT tenants_status_check CHECK (status IN ('active', 'suspended'));
