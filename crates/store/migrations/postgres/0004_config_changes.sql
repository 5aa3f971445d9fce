-- Objects of the config written through the management API, layered over the config file
-- at every start (SPEC §5: the file and the API agree). body NULL = deleted through the API.
CREATE TABLE config_changes (
    kind        TEXT   NOT NULL,
    id          TEXT   NOT NULL,
    body        TEXT,
    revision    BIGINT NOT NULL,
    changed_at  BIGINT NOT NULL,
    changed_by  TEXT,
    PRIMARY KEY (kind, id)
);

-- API tokens issued through the API: only their SHA-256 digest is kept; the token itself
-- is shown once, when issued.
CREATE TABLE api_tokens (
    id          TEXT PRIMARY KEY,
    user_id     TEXT   NOT NULL,
    digest      TEXT   NOT NULL UNIQUE,
    created_at  BIGINT NOT NULL,
    revoked_at  BIGINT
);
CREATE INDEX api_tokens_by_user ON api_tokens (user_id);
