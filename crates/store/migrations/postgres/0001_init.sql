-- closeloop schema, PostgreSQL flavour. Times are unix milliseconds (BIGINT); JSON is TEXT.
-- A translation of the SQLite schema (migrations/sqlite), same file names and versions:
-- INTEGER becomes BIGINT, the flags (invites.test, invites.once_per_case,
-- account_health.healthy) become BOOLEAN.

CREATE TABLE cases (
    id          TEXT PRIMARY KEY,
    state       TEXT    NOT NULL,          -- the case as the helpdesk last sent it, plus rule changes
    queue       TEXT,
    phone       TEXT,                      -- profile.phone in E.164 when it parses (inbound matching)
    last_inbound_at      BIGINT,           -- the customer's last message: 24-hour window, language
    last_inbound_text    TEXT,
    last_inbound_account TEXT,
    version     BIGINT  NOT NULL,
    created_at  BIGINT  NOT NULL,
    updated_at  BIGINT  NOT NULL
);
CREATE INDEX cases_by_queue ON cases (queue, id);
CREATE INDEX cases_by_phone ON cases (phone, updated_at) WHERE phone IS NOT NULL;

-- The case's conversation as the helpdesk or WhatsApp reported it.
CREATE TABLE conversation_messages (
    id          TEXT PRIMARY KEY,
    case_id     TEXT    NOT NULL,
    direction   TEXT    NOT NULL,          -- inbound | outbound
    text        TEXT    NOT NULL,
    account     TEXT,
    at          BIGINT  NOT NULL,
    created_at  BIGINT  NOT NULL
);
CREATE INDEX conversation_by_case ON conversation_messages (case_id, at);

-- The event outbox: written in the same transaction as the case change that caused it.
-- seq is assigned by the database (inserts never name it; they use RETURNING seq).
CREATE TABLE events (
    seq          BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id           TEXT    NOT NULL UNIQUE,
    case_id      TEXT    NOT NULL,
    kind         TEXT    NOT NULL,
    changed      TEXT    NOT NULL,         -- JSON array of changed field names
    before_state TEXT,
    after_state  TEXT    NOT NULL,
    depth        BIGINT  NOT NULL DEFAULT 0,
    rule_id      TEXT,                     -- for scheduled events: the queue rule to evaluate
    created_at   BIGINT  NOT NULL,
    lease_owner  TEXT,
    lease_until  BIGINT,
    attempts     BIGINT  NOT NULL DEFAULT 0,
    done_at      BIGINT,
    trace        TEXT                      -- JSON: rules, conditions, actions; set when done
);
CREATE INDEX events_pending ON events (seq) WHERE done_at IS NULL;
CREATE INDEX events_pending_by_case ON events (case_id, seq) WHERE done_at IS NULL;
CREATE INDEX events_by_case ON events (case_id, seq);

-- Idempotency keys, stored with the effect they guard (same transaction).
CREATE TABLE idempotency (
    key          TEXT PRIMARY KEY,
    status       BIGINT  NOT NULL,
    body         TEXT    NOT NULL,
    created_at   BIGINT  NOT NULL
);

CREATE TABLE invites (
    id              TEXT PRIMARY KEY,
    case_id         TEXT    NOT NULL,
    survey          TEXT    NOT NULL,
    distribution    TEXT    NOT NULL,
    channel         TEXT    NOT NULL,
    status          TEXT    NOT NULL,
    response_status TEXT    NOT NULL,
    language        TEXT    NOT NULL,
    language_source TEXT    NOT NULL,
    recipient       TEXT,
    recipient_source TEXT   NOT NULL,
    account         TEXT    NOT NULL,
    token           TEXT    NOT NULL UNIQUE,
    expires_at      BIGINT  NOT NULL,
    reminders_sent  BIGINT  NOT NULL DEFAULT 0,
    test            BOOLEAN NOT NULL DEFAULT FALSE,
    once_per_case   BOOLEAN NOT NULL DEFAULT TRUE,
    reason          TEXT,
    error_code      BIGINT,
    error_title     TEXT,
    snapshot        TEXT    NOT NULL,      -- case attributes analytics group by, as they were
    settings        TEXT    NOT NULL,      -- the distribution as it was
    answers         TEXT    NOT NULL DEFAULT '{}',
    last_sent_at    BIGINT,
    thanked_at      BIGINT,
    last_activity_at BIGINT,               -- last answer saved
    partial_due_at  BIGINT,                -- when an in-progress response becomes partially completed
    created_at      BIGINT  NOT NULL,
    updated_at      BIGINT  NOT NULL
);
CREATE INDEX invites_by_case ON invites (case_id, created_at);
CREATE INDEX invites_partial_due ON invites (partial_due_at) WHERE response_status = 'in_progress';
CREATE INDEX invites_by_recipient ON invites (recipient, distribution, created_at);
-- once_per_case is a database invariant, not only a check in code.
CREATE UNIQUE INDEX invites_once_per_case ON invites (case_id, distribution)
    WHERE once_per_case AND NOT test;

-- The message outbox: one row per WhatsApp message to send (invitation, reminder, thank-you).
CREATE TABLE messages (
    id                  TEXT PRIMARY KEY,
    invite_id           TEXT    NOT NULL,
    kind                TEXT    NOT NULL,
    account             TEXT    NOT NULL,
    recipient           TEXT    NOT NULL,
    payload             TEXT    NOT NULL,  -- the exact Cloud API request body
    text                TEXT    NOT NULL,  -- the body as the customer reads it
    status              TEXT    NOT NULL,  -- pending | sent | delivered | opened | failed
    outbox              TEXT    NOT NULL,  -- queued | sending | done
    provider_message_id TEXT UNIQUE,
    attempts            BIGINT  NOT NULL DEFAULT 0,
    next_attempt_at     BIGINT  NOT NULL,
    lease_until         BIGINT,
    error_code          BIGINT,
    error_title         TEXT,
    sent_at             BIGINT,
    created_at          BIGINT  NOT NULL,
    updated_at          BIGINT  NOT NULL
);
CREATE INDEX messages_due ON messages (account, next_attempt_at) WHERE outbox <> 'done';
CREATE INDEX messages_by_invite ON messages (invite_id, created_at);

CREATE TABLE suppressions (
    phone       TEXT PRIMARY KEY,
    reason      TEXT    NOT NULL,
    account     TEXT,
    created_at  BIGINT  NOT NULL
);

-- A recipient that hit Meta's pair rate limit (131056) waits; others go on.
CREATE TABLE recipient_holds (
    account     TEXT    NOT NULL,
    recipient   TEXT    NOT NULL,
    until_at    BIGINT  NOT NULL,
    PRIMARY KEY (account, recipient)
);

-- Per-account pacing shared by every process: theoretical arrival time of the next send.
CREATE TABLE rate_limits (
    account     TEXT PRIMARY KEY,
    next_at_us  BIGINT  NOT NULL          -- microseconds
);

CREATE TABLE account_health (
    account     TEXT PRIMARY KEY,
    healthy     BOOLEAN NOT NULL,
    reason      TEXT,
    error_code  BIGINT,
    changed_at  BIGINT  NOT NULL
);

-- Queue rules (`on: {queue, every}`): one row per (rule, case in its queue), due when the
-- rule should next look at the case. A run reads only due rows, never the whole queue.
CREATE TABLE queue_schedule (
    rule_id     TEXT    NOT NULL,
    case_id     TEXT    NOT NULL,
    due_at      BIGINT  NOT NULL,
    every_ms    BIGINT  NOT NULL,
    PRIMARY KEY (rule_id, case_id)
);
CREATE INDEX queue_schedule_due ON queue_schedule (due_at);
CREATE INDEX queue_schedule_by_case ON queue_schedule (case_id);
