-- Traces through webhooks (issue 14): each delivery keeps the W3C traceparent of the routing
-- that queued it, so the sender's attempt continues the trace of the event (HTTP -> outbox ->
-- Kafka -> router -> webhook) and sends it to the receiver in a `traceparent` header.
-- NULL for deliveries queued outside any trace (and for rows from before this migration).
ALTER TABLE webhook_deliveries ADD COLUMN traceparent text;
