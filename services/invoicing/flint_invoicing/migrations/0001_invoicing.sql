-- What invoicing knows of each order, from the order.* events (each carries the whole order):
-- what an invoice bills (BillableOrder as JSON) and which payments the order has captured.
-- An older event (lower version) never overwrites a newer one.
CREATE TABLE orders (
    id                text        PRIMARY KEY,
    merchant_id       text        NOT NULL,
    version           integer     NOT NULL CHECK (version >= 1),
    status            text        NOT NULL,
    billable          jsonb       NOT NULL,
    captured_payments text[]      NOT NULL DEFAULT '{}',
    updated_at        timestamptz NOT NULL
);

-- Merchants' display names, from merchant.created (the pay page, the PDF and mail show them).
CREATE TABLE merchants (
    id         text        PRIMARY KEY,
    name       text        NOT NULL,
    created_at timestamptz NOT NULL
);

-- The last invoice number given per merchant. Taken with a row lock in the transaction that
-- inserts the invoice, so a refused or rolled-back create gives its number back: gap-free.
CREATE TABLE invoice_numbers (
    merchant_id text   PRIMARY KEY,
    last_number bigint NOT NULL
);

-- Invoices: the whole aggregate as JSONB (Invoice.to_dict()) beside the columns lists filter
-- on. next_follow_up_at is the follow-up schedule: when the worker must look at the invoice
-- next (NULL: nothing planned). latest_link is the newest pay link, sealed (AES-GCM) under the
-- service's secret: a copy of this database alone hands out no working link.
CREATE TABLE invoices (
    id                text        PRIMARY KEY,
    merchant_id       text        NOT NULL,
    order_id          text        NOT NULL,
    number            bigint      NOT NULL,
    status            text        NOT NULL,
    version           integer     NOT NULL CHECK (version >= 1),
    created_at        timestamptz NOT NULL,
    next_follow_up_at timestamptz,
    latest_link       bytea,
    doc               jsonb       NOT NULL,
    UNIQUE (merchant_id, number)
);
CREATE INDEX invoices_by_merchant ON invoices (merchant_id, created_at DESC, id DESC);
CREATE INDEX invoices_by_order ON invoices (merchant_id, order_id, created_at DESC, id DESC);
CREATE INDEX invoices_by_status ON invoices (merchant_id, status, created_at DESC, id DESC);
CREATE INDEX invoices_follow_up_due ON invoices (next_follow_up_at) WHERE next_follow_up_at IS NOT NULL;
CREATE INDEX invoices_of_order ON invoices (order_id);

-- Every pay link handed out, by the SHA-256 of its token (the token itself is never stored).
-- Whether a link still works is the invoice's call (its 25 newest links, its expiry).
CREATE TABLE pay_links (
    token_hash text        PRIMARY KEY,
    invoice_id text        NOT NULL,
    issued_at  timestamptz NOT NULL
);

-- Payment attempts whose outcome is known: captured, or declined by the card's issuer. The
-- attempt number gives the payment id (the processor's idempotency key, derived from the
-- invoice and the number): an attempt whose outcome was lost is tried again under its old id.
CREATE TABLE payment_attempts (
    payment_id          text        PRIMARY KEY,
    invoice_id          text        NOT NULL,
    attempt             integer     NOT NULL CHECK (attempt >= 1),
    outcome             text        NOT NULL CHECK (outcome IN ('captured', 'declined')),
    failure_code        text,
    processor_reference text,
    card                text,
    at                  timestamptz NOT NULL,
    UNIQUE (invoice_id, attempt)
);
-- One captured payment per invoice, whatever the code does.
CREATE UNIQUE INDEX payment_attempts_one_capture ON payment_attempts (invoice_id) WHERE outcome = 'captured';

-- Mail to buyers, queued in the transaction of the change it tells of, sent by the worker.
-- link is the pay link the message carries, sealed like invoices.latest_link.
CREATE TABLE mail_outbox (
    id              bigserial   PRIMARY KEY,
    invoice_id      text        NOT NULL,
    kind            text        NOT NULL CHECK (kind IN ('invoice', 'reminder')),
    tone            text,
    link            bytea       NOT NULL,
    written_at      timestamptz NOT NULL,
    attempts        integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    sent_at         timestamptz,
    given_up_at     timestamptz,
    last_error      text
);
CREATE INDEX mail_outbox_waiting ON mail_outbox (next_attempt_at) WHERE sent_at IS NULL AND given_up_at IS NULL;
CREATE INDEX mail_outbox_of_invoice ON mail_outbox (invoice_id);
