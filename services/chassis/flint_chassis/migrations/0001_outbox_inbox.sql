-- Transactional outbox: rows written in the same transaction as the state they describe,
-- published to Kafka by the relay in position order per key.
CREATE TABLE flint_outbox (
    position     bigserial PRIMARY KEY,
    event_id     text        NOT NULL UNIQUE,
    topic        text        NOT NULL,
    key          text,
    payload      bytea       NOT NULL,
    headers      jsonb       NOT NULL DEFAULT '[]'::jsonb,
    created_at   timestamptz NOT NULL DEFAULT now(),
    published_at timestamptz
);
CREATE INDEX flint_outbox_unpublished ON flint_outbox (position) WHERE published_at IS NULL;

-- Inbox: one row per (consumer, message) processed, written in the consumer's own transaction.
CREATE TABLE flint_inbox (
    consumer     text        NOT NULL,
    message_id   text        NOT NULL,
    topic        text        NOT NULL,
    partition    integer     NOT NULL,
    "offset"     bigint      NOT NULL,
    outcome      text        NOT NULL DEFAULT 'processed',
    processed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, message_id)
);
