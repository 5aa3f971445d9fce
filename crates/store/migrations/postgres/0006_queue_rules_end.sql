-- Queue rules end (SPEC §4.17): a case is evaluated by a queue rule for `for` after it
-- entered the queue, and a run that matched nothing and changed nothing is kept on the
-- schedule row (how many since the last stored event, when, with what outcome) instead of
-- as an event.
ALTER TABLE queue_schedule ADD COLUMN entered_at BIGINT;
ALTER TABLE queue_schedule ADD COLUMN for_ms BIGINT NOT NULL DEFAULT 2592000000;
ALTER TABLE queue_schedule ADD COLUMN skipped_runs BIGINT NOT NULL DEFAULT 0;
ALTER TABLE queue_schedule ADD COLUMN last_run_at BIGINT;
ALTER TABLE queue_schedule ADD COLUMN last_outcome TEXT;
-- Rows scheduled before this migration count from now.
UPDATE queue_schedule SET entered_at = (extract(epoch FROM now()) * 1000)::bigint;
