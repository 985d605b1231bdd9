-- The province's units: its commune-level units (copied from the national list, codes of five
-- digits) and the units it declares itself (departments, the provincial centre and its
-- branches; codes of its choosing). A unit is retired, never deleted: dossiers name it.
CREATE TABLE units (
    code       text PRIMARY KEY CHECK (code ~ '^[0-9]{5}$' OR code ~ '^[A-Z0-9-]{2,20}$'),
    name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 160),
    kind       text NOT NULL CHECK (kind IN ('commune', 'ward', 'special_zone', 'department', 'centre', 'branch')),
    -- A service point: citizens hand dossiers in here (every commune centre, the provincial
    -- centre and its branches).
    receives   boolean NOT NULL,
    retired_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Which unit decides a procedure decided above the commune (a department or the centre): the
-- province's choice. Commune-level procedures are decided by the commune the citizen names.
CREATE TABLE procedure_units (
    procedure_code text PRIMARY KEY,
    unit_code      text NOT NULL REFERENCES units (code)
);

-- Staff work in units; a staff member without any works at the province level.
CREATE TABLE staff_units (
    staff_id  uuid NOT NULL REFERENCES staff (id),
    unit_code text NOT NULL REFERENCES units (code),
    PRIMARY KEY (staff_id, unit_code)
);
CREATE INDEX staff_units_unit ON staff_units (unit_code);

ALTER TABLE staff DROP CONSTRAINT staff_role_check;
ALTER TABLE staff ADD CONSTRAINT staff_role_check
    CHECK (role IN ('receiver', 'official', 'head', 'admin'));

-- Where the dossier was handed in (a unit, or null for online) and who decides it (null: the
-- province itself, as before units existed). The deadline runs from receipt wherever that was.
ALTER TABLE dossiers
    ADD COLUMN received_at_unit text REFERENCES units (code),
    ADD COLUMN competent_unit   text REFERENCES units (code),
    -- The official the head of unit assigned it to, if any.
    ADD COLUMN assignee_id      uuid REFERENCES staff (id);
CREATE INDEX dossiers_competent_due ON dossiers (competent_unit, due_on, submitted_at DESC);
CREATE INDEX dossiers_received_at ON dossiers (received_at_unit) WHERE received_at_unit IS NOT NULL;
