-- Legal e-invoices (docs/einvoice.md). Numbers are gapless per series (the series names its
-- year): a number is taken with the row, in one transaction, and the row is never deleted; a
-- provider failure leaves it `pending` and the retry sends the same number with the same key.
CREATE TABLE einvoice_counters (
    series      text PRIMARY KEY CHECK (series ~ '^[CK][0-9]{2}[TDLMNBGH][A-Z0-9]{2}$'),
    last_number integer NOT NULL CHECK (last_number BETWEEN 0 AND 99999999)
);

-- `original`: the e-invoice of a finalized invoice; `replacement` (TCHDon=1): the e-invoice of
-- a new invoice replacing a voided one's; `adjustment` (TCHDon=2): a voided invoice's credit,
-- decreasing the original's amounts. `related_id` names the original for both.
CREATE TABLE einvoices (
    id              uuid PRIMARY KEY,
    invoice_id      uuid NOT NULL REFERENCES invoices (id),
    kind            text NOT NULL CHECK (kind IN ('original', 'replacement', 'adjustment')),
    related_id      uuid REFERENCES einvoices (id),
    idempotency_key text NOT NULL UNIQUE,
    template        text NOT NULL,
    series          text NOT NULL,
    number          integer NOT NULL CHECK (number BETWEEN 1 AND 99999999),
    issued_on       date NOT NULL,
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'issued')),
    provider        text NOT NULL,
    provider_number text,
    authority_code  text,
    lookup_code     text,
    xml             text NOT NULL,
    xml_sha256      text NOT NULL CHECK (xml_sha256 ~ '^[0-9a-f]{64}$'),
    pdf             bytea,
    attempts        integer NOT NULL DEFAULT 0,
    last_error      text,
    mailed_at       timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    issued_at       timestamptz,
    CONSTRAINT einvoices_series_number UNIQUE (series, number),
    CHECK ((kind = 'original') = (related_id IS NULL)),
    CHECK (status = 'pending' OR (provider_number IS NOT NULL AND lookup_code IS NOT NULL))
);
-- One e-invoice of its own per invoice, one adjustment per voided invoice.
CREATE UNIQUE INDEX einvoices_one_per_invoice ON einvoices (invoice_id, (kind = 'adjustment'));
CREATE INDEX einvoices_pending ON einvoices (created_at) WHERE status = 'pending';
