-- Each province as the buyer of its e-invoices (docs/einvoice.md): the name, the tax code or
-- the budget-relationship unit code (mã ĐVQHNS) a state body is known by, the address, and the
-- address the lookup code is mailed to. Stored as the operator typed it, possibly incomplete:
-- the e-invoice step lists what is missing and waits.
CREATE TABLE einvoice_buyers (
    tenant_id        uuid PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    name             text NOT NULL DEFAULT '' CHECK (char_length(name) <= 400),
    tax_code         text CHECK (tax_code ~ '^[0-9]{10}(-[0-9]{3})?$'),
    budget_unit_code text CHECK (budget_unit_code ~ '^[0-9]{7}$'),
    address          text NOT NULL DEFAULT '' CHECK (char_length(address) <= 400),
    email            text CHECK (char_length(email) <= 254),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    updated_by       text NOT NULL
);
