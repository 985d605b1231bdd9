-- The national list of administrative units (Decision 19/2025; the statistics office's codes,
-- never reused, so safe keys). Loaded from reference/admin-units-2025.csv by `portal migrate` and
-- `up`; read-mostly, the same on every node (a reference table in the Citus sense).
CREATE TABLE admin_provinces (
    code       text PRIMARY KEY CHECK (code ~ '^[0-9]{2}$'),
    name       text NOT NULL,
    valid_from date NOT NULL,
    valid_to   date,
    successor  text
);

CREATE TABLE admin_units (
    code          text PRIMARY KEY CHECK (code ~ '^[0-9]{5}$'),
    name          text NOT NULL,
    kind          text NOT NULL CHECK (kind IN ('commune', 'ward', 'special_zone')),
    province_code text NOT NULL REFERENCES admin_provinces (code),
    valid_from    date NOT NULL,
    -- Set when a reorganisation retires the unit; `successor` names the unit that took it over.
    valid_to      date,
    successor     text
);
CREATE INDEX admin_units_province ON admin_units (province_code);

-- Which national province a tenant is (null for a tenant outside the national list, e.g. a
-- training site): its communes come from the national list.
ALTER TABLE tenants ADD COLUMN province_code text UNIQUE REFERENCES admin_provinces (code);
