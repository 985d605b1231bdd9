-- Every province's result verification codes, so `GET /verify/{code}` answers on any host
-- (the national one included) with one indexed lookup, whether the code exists or not: no
-- search across province schemas, no timing that tells a near miss. Keyed by the code's
-- SHA-256, not the code, so this table alone cannot be turned into working links. Holds only
-- what the public page shows: no applicant, no tracking code.
CREATE TABLE result_verifications (
    code_hash      text PRIMARY KEY CHECK (code_hash ~ '^[0-9a-f]{64}$'),
    tenant_id      uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    procedure_code text NOT NULL,
    issued_on      date NOT NULL,
    sha256         text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX result_verifications_tenant ON result_verifications (tenant_id);
