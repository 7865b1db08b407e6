-- The sandbox processor's ledger: charges, refunds, idempotency keys and injected faults.
-- It lives in a database of its own (flint_sandbox) so that every process using the sandbox
-- (invoicing captures, refunds refunds) sees the same charges.

CREATE TABLE sandbox_charges (
    reference        text PRIMARY KEY,
    amount           bigint NOT NULL CHECK (amount > 0),
    currency         text NOT NULL,
    -- The database itself refuses a refund beyond the charge, whatever the code does.
    amount_refunded  bigint NOT NULL DEFAULT 0 CHECK (amount_refunded >= 0 AND amount_refunded <= amount),
    card             jsonb NOT NULL,
    description      text,
    metadata         jsonb NOT NULL DEFAULT '{}',
    created_at       timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE sandbox_refunds (
    reference         text PRIMARY KEY,
    charge_reference  text NOT NULL REFERENCES sandbox_charges (reference),
    amount            bigint NOT NULL CHECK (amount > 0),
    currency          text NOT NULL,
    metadata          jsonb NOT NULL DEFAULT '{}',
    created_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sandbox_refunds_by_charge ON sandbox_refunds (charge_reference, created_at);

-- One row per key, claimed in the transaction of the call: a second call with the key waits
-- for the first to commit, then reads its outcome. A retryable failure rolls the claim back.
CREATE TABLE sandbox_idempotency_keys (
    key               text PRIMARY KEY,
    operation         text NOT NULL,
    fingerprint       text NOT NULL,
    charge_reference  text,
    refund_reference  text,
    error_code        text,
    error_message     text,
    error_detail      jsonb,
    created_at        timestamptz NOT NULL DEFAULT now(),
    CHECK (operation IN ('capture', 'refund')),
    CHECK (num_nonnulls(charge_reference, refund_reference, error_code) <= 1)
);

-- Failures injected for the next N calls of an operation, read by every process per call.
CREATE TABLE sandbox_faults (
    id          bigserial PRIMARY KEY,
    operation   text NOT NULL CHECK (operation IN ('capture', 'refund', 'get_charge')),
    failure     text NOT NULL CHECK (failure IN ('unavailable', 'processing_error', 'response_lost')),
    remaining   integer NOT NULL CHECK (remaining >= 0),
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sandbox_faults_waiting ON sandbox_faults (operation, id) WHERE remaining > 0;
