-- The province's receiving bank account for fees paid by transfer (VietQR): one row, set by the
-- province admin. Transfers themselves are rows of `payments` (provider 'bank_transfer', the
-- transfer's reference), matched against the bank statement.
CREATE TABLE payment_account (
    id             bigint PRIMARY KEY CHECK (id = 1),
    bank_bin       text NOT NULL CHECK (bank_bin ~ '^[0-9]{6}$'),
    account_number text NOT NULL CHECK (account_number ~ '^[0-9A-Z]{4,19}$'),
    account_name   text NOT NULL CHECK (length(account_name) BETWEEN 1 AND 50),
    updated_at     timestamptz NOT NULL DEFAULT now()
);
