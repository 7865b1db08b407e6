-- Idempotency-Key records of every create endpoint (flint_chassis.http.idempotency): the
-- first response to (caller, key), replayed byte for byte for the same request. body is
-- AES-GCM encrypted under the service's secret when sealed (responses that show a secret once).
CREATE TABLE flint_idempotency_keys (
    caller      text        NOT NULL,  -- who sent it: "<merchant id>/<token subject>", or "admin"
    key         text        NOT NULL,
    fingerprint bytea       NOT NULL,  -- SHA-256 of method, path and the body as canonical JSON
    status_code integer,
    headers     jsonb,
    body        bytea,
    sealed      boolean     NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    PRIMARY KEY (caller, key)
);
CREATE INDEX flint_idempotency_keys_expiry ON flint_idempotency_keys (expires_at);
