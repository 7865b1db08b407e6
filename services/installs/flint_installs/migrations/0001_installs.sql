-- The installs service's own tables. Secrets are stored only as SHA-256 hashes: every
-- secret Flint hands out (merchant keys, client secrets, codes, refresh tokens) carries at
-- least 256 random bits, so a fast hash is enough and lookups can go by hash.

CREATE TABLE merchants (
    id              text PRIMARY KEY,
    name            text        NOT NULL,
    secret_key_hash bytea       NOT NULL UNIQUE,
    secret_key_hint text        NOT NULL,  -- the key's last four characters, to tell keys apart
    created_at      timestamptz NOT NULL
);

-- An app is an OAuth client: its id is its client_id.
CREATE TABLE apps (
    id                 text PRIMARY KEY,
    name               text        NOT NULL,
    client_secret_hash bytea       NOT NULL,
    redirect_uris      text[]      NOT NULL,
    scopes             text[]      NOT NULL,
    created_at         timestamptz NOT NULL
);

CREATE TABLE installs (
    id             text PRIMARY KEY,
    merchant_id    text        NOT NULL REFERENCES merchants (id),
    app_id         text        NOT NULL REFERENCES apps (id),
    scopes         text[]      NOT NULL,
    status         text        NOT NULL CHECK (status IN ('active', 'uninstalled')),
    version        integer     NOT NULL,
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL,
    uninstalled_at timestamptz
);
-- At most one active install per merchant and app; a re-install after an uninstall is a new install.
CREATE UNIQUE INDEX installs_one_active ON installs (merchant_id, app_id) WHERE status = 'active';
CREATE INDEX installs_by_merchant ON installs (merchant_id, id);

CREATE TABLE authorization_codes (
    code_hash      bytea PRIMARY KEY,
    app_id         text        NOT NULL REFERENCES apps (id),
    merchant_id    text        NOT NULL REFERENCES merchants (id),
    install_id     text        NOT NULL REFERENCES installs (id),
    redirect_uri   text        NOT NULL,
    scopes         text[]      NOT NULL,
    code_challenge text        NOT NULL,
    created_at     timestamptz NOT NULL,
    expires_at     timestamptz NOT NULL,
    used_at        timestamptz,
    family_id      text  -- the refresh-token family its exchange started; revoked if the code is replayed
);
CREATE INDEX authorization_codes_install ON authorization_codes (install_id);

-- Refresh tokens rotate on every use; all tokens descending from one code share a family.
CREATE TABLE refresh_tokens (
    token_hash  bytea PRIMARY KEY,
    family_id   text        NOT NULL,
    app_id      text        NOT NULL REFERENCES apps (id),
    merchant_id text        NOT NULL REFERENCES merchants (id),
    install_id  text        NOT NULL REFERENCES installs (id),
    scopes      text[]      NOT NULL,
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz,
    revoked_at  timestamptz
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_install ON refresh_tokens (install_id);

-- Ed25519 signing keys. The private key is AES-256-GCM encrypted (nonce || ciphertext) under a
-- key derived from FLINT_INSTALLS_SECRET, so a copy of this table alone cannot sign tokens.
-- The newest key signs; an older one stays published until retired_at + the token lifetime.
CREATE TABLE signing_keys (
    kid         text PRIMARY KEY,
    public_jwk  jsonb       NOT NULL,
    private_key bytea       NOT NULL,
    created_at  timestamptz NOT NULL,
    retired_at  timestamptz
);

-- Access tokens revoked through /oauth/revoke: refused by this service until they expire.
CREATE TABLE revoked_access_tokens (
    jti        text PRIMARY KEY,
    expires_at timestamptz NOT NULL
);

-- Idempotency-Key records: the first response is replayed for the same key and request. The
-- response is encrypted like the signing keys because it may hold a secret shown once.
CREATE TABLE idempotency_keys (
    owner        text        NOT NULL,  -- who sent it: "admin" or a merchant id
    key          text        NOT NULL,
    request_hash bytea       NOT NULL,
    status_code  integer     NOT NULL,
    response     bytea       NOT NULL,
    created_at   timestamptz NOT NULL,
    PRIMARY KEY (owner, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
