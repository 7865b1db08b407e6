-- Outbox rows carry whatever bytes a consumed message had (a dead letter keeps the original
-- key and headers), so nothing about them may fail to store: the key becomes bytea, and each
-- header becomes [base64(name), base64(value)] in the jsonb. Existing rows are converted.
ALTER TABLE flint_outbox ALTER COLUMN key TYPE bytea USING convert_to(key, 'UTF8');
UPDATE flint_outbox
   SET headers = (
       SELECT coalesce(jsonb_agg(jsonb_build_array(
                  translate(encode(convert_to(h ->> 0, 'UTF8'), 'base64'), E'\n', ''),
                  translate(encode(convert_to(h ->> 1, 'UTF8'), 'base64'), E'\n', ''))
              ORDER BY n), '[]'::jsonb)
         FROM jsonb_array_elements(headers) WITH ORDINALITY AS pairs(h, n));

-- Parked messages: consumed messages that must wait (RetryLater, repeated conflicts), kept
-- byte for byte, re-delivered by the consumer's re-driver when due. ``aggregate`` is the
-- Kafka key (or the envelope's subject): a later message of the same aggregate on the same
-- consumer is parked behind the earlier one, so an aggregate's messages keep their order.
CREATE TABLE flint_parked (
    id         bigserial   PRIMARY KEY,
    consumer   text        NOT NULL,
    aggregate  bytea       NOT NULL,
    topic      text        NOT NULL,
    partition  integer     NOT NULL,
    "offset"   bigint      NOT NULL,
    key        bytea,
    value      bytea       NOT NULL,
    headers    jsonb       NOT NULL DEFAULT '[]'::jsonb,
    attempts   integer     NOT NULL DEFAULT 0,
    reason     text        NOT NULL,
    code       text        NOT NULL,
    parked_at  timestamptz NOT NULL DEFAULT now(),
    due_at     timestamptz NOT NULL,
    UNIQUE (consumer, topic, partition, "offset")
);
CREATE INDEX flint_parked_by_aggregate ON flint_parked (consumer, aggregate, id);
CREATE INDEX flint_parked_by_due ON flint_parked (consumer, due_at);
