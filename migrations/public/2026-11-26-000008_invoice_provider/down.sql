DROP TABLE provider_customers;
ALTER TABLE invoices
    DROP COLUMN provider_ref,
    DROP COLUMN provider_status,
    DROP COLUMN provider_error,
    DROP COLUMN provider_attempts,
    DROP COLUMN provider_sent_at;
