DROP TRIGGER procedure_settings_changed ON procedure_settings;
DROP TRIGGER logo_changed ON logo;
DROP TRIGGER branding_changed ON branding;
DROP FUNCTION notify_site_changed();
