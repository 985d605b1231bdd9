ALTER TABLE tenants DROP COLUMN province_code;
DROP TABLE admin_units;
DROP TABLE admin_provinces;
