DROP TABLE identity.citizen_provinces;
