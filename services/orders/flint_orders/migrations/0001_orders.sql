-- The order record: the whole aggregate as JSONB (exactly what GET /v1/orders/{id} returns),
-- plus the columns the list filters and the per-merchant number need, kept in step by the
-- repository on every save.
CREATE TABLE orders (
    id             text        PRIMARY KEY,
    merchant_id    text        NOT NULL,
    number         bigint      NOT NULL,
    status         text        NOT NULL,
    payment_status text        NOT NULL,
    customer_email text        NOT NULL,  -- lower-cased, so the filter ignores case
    currency       text        NOT NULL,
    tags           text[]      NOT NULL DEFAULT '{}',
    version        integer     NOT NULL CHECK (version >= 1),
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL,
    doc            jsonb       NOT NULL,
    UNIQUE (merchant_id, number)
);
-- Lists are newest first, keyset-paginated on (created_at, id) within one merchant.
CREATE INDEX orders_by_merchant ON orders (merchant_id, created_at DESC, id DESC);
CREATE INDEX orders_by_status ON orders (merchant_id, status, created_at DESC, id DESC);
CREATE INDEX orders_by_payment_status ON orders (merchant_id, payment_status, created_at DESC, id DESC);
CREATE INDEX orders_by_customer_email ON orders (merchant_id, customer_email, created_at DESC, id DESC);
CREATE INDEX orders_by_tag ON orders USING gin (tags);

-- The last order number given per merchant. Taken with a row lock in the transaction that
-- inserts the order, so a rolled-back create gives its number back: numbers are gap-free.
CREATE TABLE order_numbers (
    merchant_id text   PRIMARY KEY,
    last_number bigint NOT NULL
);

-- Every change of every order, in its gap-free per-order sequence. event_id is the order
-- event published for the entry (NULL for timeline-only entries).
CREATE TABLE order_timeline (
    order_id text        NOT NULL REFERENCES orders (id),
    sequence integer     NOT NULL CHECK (sequence >= 1),
    type     text        NOT NULL,
    at       timestamptz NOT NULL,
    actor    jsonb       NOT NULL,
    changes  jsonb       NOT NULL,
    data     jsonb       NOT NULL,
    event_id text,
    caused_by text,
    PRIMARY KEY (order_id, sequence)
);

-- Idempotency-Key: the first response to a create, replayed for the same key and body.
-- Scoped to the caller (merchant and token subject); kept at least 24 hours.
CREATE TABLE idempotency_keys (
    merchant_id  text        NOT NULL,
    caller       text        NOT NULL,
    key          text        NOT NULL,
    fingerprint  text        NOT NULL,
    status_code  integer     NOT NULL,
    response     jsonb       NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    PRIMARY KEY (merchant_id, caller, key)
);
CREATE INDEX idempotency_keys_expiry ON idempotency_keys (expires_at);
