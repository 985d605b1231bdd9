-- Invoices pushed to a payment provider (Stripe): the provider's invoice id, and the outcome of
-- the last attempt so a failure is visible and retried with the same idempotency keys.
ALTER TABLE invoices
    ADD COLUMN provider_ref      text,
    ADD COLUMN provider_status   text,
    ADD COLUMN provider_error    text,
    ADD COLUMN provider_attempts integer NOT NULL DEFAULT 0,
    ADD COLUMN provider_sent_at  timestamptz;

-- One customer per province at each provider.
CREATE TABLE provider_customers (
    tenant_id    uuid NOT NULL REFERENCES tenants (id),
    provider     text NOT NULL,
    customer_ref text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, provider)
);
