DROP TRIGGER procedure_units_changed ON procedure_units;
DROP TRIGGER units_changed ON units;
