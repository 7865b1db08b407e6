-- Webhook delivery (issue 12): endpoints with their signing secrets, one delivery per event
-- and endpoint, and every attempt. Read and written only by flint_installs.delivery.repository.
-- The router that creates deliveries and the HTTP API over these tables come later.

CREATE TABLE webhook_endpoints (
    id            text PRIMARY KEY,  -- whe_…
    install_id    text        NOT NULL REFERENCES installs (id),
    url           text        NOT NULL,
    status        text        NOT NULL CHECK (status IN ('enabled', 'disabled')),
    failing_since timestamptz,       -- first failed attempt since the last delivered one; NULL when healthy
    disabled_at   timestamptz,
    disabled_reason text,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL
);
CREATE INDEX webhook_endpoints_install ON webhook_endpoints (install_id, id);

-- Signing secrets (whsec_…), AES-256-GCM encrypted under FLINT_INSTALLS_SECRET with the
-- endpoint id and version bound to the ciphertext. Every secret whose expires_at is NULL or
-- in the future signs (one v1 each): during a rotation the old one keeps signing until then.
CREATE TABLE webhook_endpoint_secrets (
    endpoint_id text        NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    version     integer     NOT NULL,
    sealed      bytea       NOT NULL,
    hint        text        NOT NULL,  -- last four characters, to tell secrets apart
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz,
    PRIMARY KEY (endpoint_id, version)
);

-- One event for one endpoint. `body` holds the exact bytes signed and sent on every attempt.
-- Deliveries of the same endpoint and ordering key (the event's subject: its order) go out
-- in `position` order: only the oldest pending one of each key can be claimed.
CREATE TABLE webhook_deliveries (
    id              text PRIMARY KEY,  -- dlv_…
    endpoint_id     text        NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event_id        text        NOT NULL,
    event_type      text        NOT NULL,
    ordering_key    text        NOT NULL,
    position        bigint      GENERATED ALWAYS AS IDENTITY,
    body            bytea       NOT NULL,
    status          text        NOT NULL CHECK (status IN ('pending', 'delivered', 'given_up')),
    attempts        integer     NOT NULL DEFAULT 0,
    -- Not before this time. A claim moves it forward by the claim lease, so a delivery whose
    -- worker died becomes due again when the lease runs out.
    next_attempt_at timestamptz NOT NULL,
    created_at      timestamptz NOT NULL,
    finished_at     timestamptz,
    UNIQUE (endpoint_id, event_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_queue ON webhook_deliveries (endpoint_id, ordering_key, position)
    WHERE status = 'pending';
CREATE INDEX webhook_deliveries_log ON webhook_deliveries (endpoint_id, id);

CREATE TABLE webhook_delivery_attempts (
    delivery_id      text        NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    number           integer     NOT NULL,
    started_at       timestamptz NOT NULL,
    latency_ms       integer     NOT NULL,
    outcome          text        NOT NULL CHECK (outcome IN ('delivered', 'failed')),
    reason           text,       -- flint_installs.delivery.outcome.FailureReason
    detail           text        NOT NULL DEFAULT '',
    status_code      integer,
    response_snippet text        NOT NULL DEFAULT '',
    PRIMARY KEY (delivery_id, number)
);
