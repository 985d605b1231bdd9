-- Forward-only project (migrations/README.md); kept for diesel's layout.
DROP TABLE audit_log, operators, tenant_domains, tenants, plans;
DROP FUNCTION notify_registry();
