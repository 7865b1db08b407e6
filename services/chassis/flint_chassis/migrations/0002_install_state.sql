-- Each service's own projection of install state (from flint.installs.events.v1), so a token
-- of an uninstalled install is refused without asking the installs service.
CREATE TABLE flint_install_state (
    install_id  text PRIMARY KEY,
    app_id      text,
    merchant_id text,
    scopes      text[]      NOT NULL DEFAULT '{}',
    status      text        NOT NULL,
    updated_at  timestamptz NOT NULL
);
