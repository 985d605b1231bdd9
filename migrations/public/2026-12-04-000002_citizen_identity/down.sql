DROP INDEX identity.citizens_citizen_id;
DELETE FROM identity.citizens WHERE email IS NULL OR password_hash IS NULL;
ALTER TABLE identity.citizens
    DROP COLUMN citizen_id,
    DROP COLUMN birth_date,
    ALTER COLUMN email SET NOT NULL,
    ALTER COLUMN password_hash SET NOT NULL;
