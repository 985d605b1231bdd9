-- National sign-in (#17.1): an account is linked to the national identity by its 12-digit
-- citizen ID, at most one account per ID. An account made by national sign-in may have no
-- password (and no email when the provider gives none); password sign-in refuses it.
ALTER TABLE identity.citizens
    ADD COLUMN citizen_id text CHECK (citizen_id ~ '^[0-9]{12}$'),
    ADD COLUMN birth_date date,
    ALTER COLUMN email DROP NOT NULL,
    ALTER COLUMN password_hash DROP NOT NULL;
CREATE UNIQUE INDEX citizens_citizen_id ON identity.citizens (citizen_id);
