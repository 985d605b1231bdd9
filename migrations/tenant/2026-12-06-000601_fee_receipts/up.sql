-- Fee e-receipts (biên lai điện tử, Decree 123/2020): one per paid fee. Numbers are gapless per
-- series (the province's) and year, so they come from a counter row locked in the paying
-- transaction, never a sequence (a sequence leaves a gap at every rollback).
CREATE TABLE fee_receipt_counters (
    series      text NOT NULL,
    -- bigint like every tenant key (tests/api/citus_rules.rs): a merge copies keys as they are.
    year        bigint NOT NULL CHECK (year BETWEEN 2000 AND 9999),
    last_number bigint NOT NULL CHECK (last_number > 0),
    PRIMARY KEY (series, year)
);

-- What was printed stays printed: the payer, the amount (figures and words), the basis and the
-- issuer are copied at issue. A mistake is corrected by a void (who, when, why) and a
-- replacement with the next number that names the voided one; a row is never edited.
CREATE TABLE fee_receipts (
    id                bigserial PRIMARY KEY,
    dossier_id        bigint NOT NULL REFERENCES dossiers (id),
    template          text NOT NULL,
    series            text NOT NULL,
    year              integer NOT NULL,
    number            bigint NOT NULL CHECK (number > 0),
    issued_on         date NOT NULL,
    issued_at         timestamptz NOT NULL,
    issuer_name       text NOT NULL,
    payer_name        text NOT NULL,
    procedure_code    text NOT NULL,
    description       text NOT NULL,
    amount_vnd        bigint NOT NULL CHECK (amount_vnd > 0),
    amount_words      text NOT NULL,
    legal_basis       text NOT NULL,
    payment_method    text NOT NULL,
    payment_reference text,
    replaces_id       bigint UNIQUE REFERENCES fee_receipts (id),
    voided_at         timestamptz,
    voided_by         text,
    void_reason       text,
    UNIQUE (series, year, number),
    CHECK ((voided_at IS NULL) = (voided_by IS NULL)),
    CHECK ((voided_at IS NULL) = (void_reason IS NULL))
);
CREATE INDEX fee_receipts_dossier ON fee_receipts (dossier_id, id);

-- The one change a receipt allows: being voided, once. Deletes stay possible for a merge, which
-- moves the rows to the successor in the same transaction.
CREATE FUNCTION fee_receipts_no_edit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.voided_at IS NOT NULL OR NEW.voided_at IS NULL
       OR (to_jsonb(NEW) - ARRAY['voided_at', 'voided_by', 'void_reason'])
          <> (to_jsonb(OLD) - ARRAY['voided_at', 'voided_by', 'void_reason']) THEN
        RAISE EXCEPTION 'a fee receipt is never edited, only voided once';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER fee_receipts_void_only BEFORE UPDATE ON fee_receipts
    FOR EACH ROW EXECUTE FUNCTION fee_receipts_no_edit();
