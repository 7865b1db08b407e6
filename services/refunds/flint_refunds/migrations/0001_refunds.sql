-- The refunds service's own data (docs/refunds.md, "Storage").

-- Each order's money as this service knows it, from the order.* events (they carry the whole
-- order record): what was sold, for how much, and whether it was canceled. A refund locks the
-- order's row, so refunds of one order are decided one after another.
CREATE TABLE order_money (
    order_id      text PRIMARY KEY,
    merchant_id   text NOT NULL,
    currency      text NOT NULL,
    lines         jsonb NOT NULL,               -- [{line_item_id, quantity, unit_price, tax}]: the rules' OrderLine
    shipping      bigint NOT NULL CHECK (shipping >= 0),
    discounts     bigint[] NOT NULL,
    canceled      boolean NOT NULL,
    order_version integer NOT NULL,             -- version of the last order event applied; older ones are skipped
    updated_at    timestamptz NOT NULL DEFAULT now()
);

-- Captured payments, one row per payment id: from payment.captured (with the processor's
-- reference a refund needs) and from the payments order events carry (without it).
CREATE TABLE captures (
    payment_id          text PRIMARY KEY,
    order_id            text NOT NULL,
    merchant_id         text NOT NULL,
    amount              bigint NOT NULL CHECK (amount > 0),
    currency            text NOT NULL,
    captured_at         timestamptz NOT NULL,
    processor           text,
    processor_reference text
);
CREATE INDEX captures_by_order ON captures (order_id);

-- Refunds: the authority on what was refunded. `doc` is the refund as the API answers it;
-- the columns are what lists filter on and what the runners schedule by.
CREATE TABLE refunds (
    id              text PRIMARY KEY,
    merchant_id     text NOT NULL,
    order_id        text NOT NULL,
    status          text NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    doc             jsonb NOT NULL,
    attempts        integer NOT NULL DEFAULT 0,  -- runs by workers so far
    next_attempt_at timestamptz,                 -- when a worker may run a pending refund (again)
    last_error      text                         -- why the last run left it pending
);
CREATE INDEX refunds_by_merchant ON refunds (merchant_id, created_at DESC, id DESC);
CREATE INDEX refunds_by_order ON refunds (order_id, created_at DESC, id DESC);
CREATE INDEX refunds_due ON refunds (next_attempt_at) WHERE status = 'pending';
