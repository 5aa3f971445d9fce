-- Analytics (GET /api/v1/analytics) groups invites by the agent frozen in their snapshot.
-- Grouping by json_extract(snapshot, '$.assignee') parses every snapshot and then seeks
-- every table row; at 1,000,000 invites that took ~7 s. A plain `agent` column copied from
-- the snapshot and one covering index, in grouping order, let the query read the index only.
--
-- `agent` is kept by triggers rather than by the insert statement, so every writer of
-- invites gets it; the snapshot is frozen at creation (SPEC §4.13), so the copy cannot go
-- stale. (A VIRTUAL generated column would not do: SQLite does not treat an index on it as
-- covering, so every row is still read from the table. PostgreSQL gets a STORED generated
-- column instead.)
ALTER TABLE invites ADD COLUMN agent TEXT;
UPDATE invites SET agent = json_extract(snapshot, '$.assignee');

CREATE TRIGGER invites_agent_on_insert AFTER INSERT ON invites
BEGIN
    UPDATE invites SET agent = json_extract(NEW.snapshot, '$.assignee') WHERE rowid = NEW.rowid;
END;

CREATE TRIGGER invites_agent_on_snapshot AFTER UPDATE OF snapshot ON invites
BEGIN
    UPDATE invites SET agent = json_extract(NEW.snapshot, '$.assignee') WHERE rowid = NEW.rowid;
END;

-- Covering for the analytics query by agent: filters (survey, test, created_at,
-- distribution), key, the counted statuses, and the answers the scores are read from.
CREATE INDEX invites_analytics_by_agent ON invites
    (survey, test, agent, status, response_status, last_sent_at, created_at, distribution, answers);
