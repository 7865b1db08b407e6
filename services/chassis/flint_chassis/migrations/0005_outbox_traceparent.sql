-- The W3C traceparent of the work that wrote each outbox row (an HTTP request, a consumed
-- message), so the relay's publish and the consumers that handle the event continue its
-- trace (flint_chassis.tracing). NULL for rows written outside any trace.
ALTER TABLE flint_outbox ADD COLUMN traceparent text;
