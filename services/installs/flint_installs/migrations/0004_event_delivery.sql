-- Event delivery to plugins (issue 12): the install's event feed, the broker access each app
-- should have, and what the purges of the delivery log need.

-- The event feed (GET /v1/events): every event routed to an install, byte for byte as its
-- app's topic holds it, numbered 1, 2, 3… per install in routing order. The router takes the
-- next number by updating the install's row of install_feeds, so two routers never commit
-- numbers out of order, and a reader paging by number never skips one committed late.
CREATE TABLE install_feeds (
    install_id    text   PRIMARY KEY REFERENCES installs (id),
    last_position bigint NOT NULL
);

CREATE TABLE app_events (
    install_id text        NOT NULL REFERENCES installs (id),
    position   bigint      NOT NULL,
    event_id   text        NOT NULL,
    event_type text        NOT NULL,
    body       bytea       NOT NULL,  -- the exact bytes on flint.app.<app_id>.v1
    outbox_id  text        NOT NULL,  -- its flint_outbox row: withdrawn, with this row, if the app is
                                      -- uninstalled before it was published
    routed_at  timestamptz NOT NULL,
    PRIMARY KEY (install_id, position),
    UNIQUE (install_id, event_id)
);
CREATE INDEX app_events_outbox ON app_events (outbox_id);
CREATE INDEX app_events_routed ON app_events (routed_at);

-- What the broker should let each app do: read its topic while it has at least one active
-- install. Install and uninstall change `readable` (and bump `version`) in their own
-- transaction; whoever applies it to the broker records `applied_version`, so a change the
-- broker did not take (Kafka down) is applied again until it is.
CREATE TABLE app_kafka_access (
    app_id          text        PRIMARY KEY REFERENCES apps (id),
    readable        boolean     NOT NULL,
    version         bigint      NOT NULL,
    applied_version bigint      NOT NULL DEFAULT 0,
    changed_at      timestamptz NOT NULL,
    applied_at      timestamptz,
    last_error      text
);
CREATE INDEX app_kafka_access_pending ON app_kafka_access (app_id) WHERE applied_version < version;

-- The delivery log is kept for the same 30 days as the feed.
CREATE INDEX webhook_deliveries_created ON webhook_deliveries (created_at);

-- The claim reads due deliveries in (next_attempt_at, position) order and stops at its limit;
-- without this index it sorted every due delivery (every queued event during a backlog).
CREATE INDEX webhook_deliveries_due_in_order ON webhook_deliveries (next_attempt_at, position)
    WHERE status = 'pending';
DROP INDEX webhook_deliveries_due;
