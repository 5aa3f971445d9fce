-- Operator console sessions (SPEC §8): the SHA-256 digest of the cookie's random id (never
-- the id), the user signed in (NULL when no users are configured and the console is open),
-- the session's CSRF token and when it expires.
CREATE TABLE console_sessions (
    id_digest   TEXT    PRIMARY KEY,
    user_id     TEXT,
    csrf        TEXT    NOT NULL,
    expires_at  BIGINT  NOT NULL
);
CREATE INDEX console_sessions_by_expiry ON console_sessions (expires_at);
