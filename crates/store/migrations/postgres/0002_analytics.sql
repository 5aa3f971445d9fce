-- Analytics (GET /api/v1/analytics) groups invites by the agent frozen in their snapshot.
-- Grouping by the snapshot's assignee parses every snapshot and then seeks every table
-- row; at 1,000,000 invites that took ~7 s (SQLite). A plain `agent` column copied from
-- the snapshot and one covering index, in grouping order, let the query read the index only.
--
-- `agent` is kept by a trigger rather than by the insert statement, so every writer of
-- invites gets it; the snapshot is frozen at creation (SPEC §4.13), so the copy cannot go
-- stale. The trigger runs BEFORE the row is written, so it sets NEW.agent directly.
-- A JSON null or missing assignee gives SQL NULL (->> does that), as json_extract does.
ALTER TABLE invites ADD COLUMN agent TEXT;
UPDATE invites SET agent = snapshot::jsonb ->> 'assignee';

CREATE FUNCTION invites_agent_from_snapshot() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.agent := NEW.snapshot::jsonb ->> 'assignee';
    RETURN NEW;
END;
$$;

CREATE TRIGGER invites_agent_from_snapshot
    BEFORE INSERT OR UPDATE OF snapshot ON invites
    FOR EACH ROW EXECUTE FUNCTION invites_agent_from_snapshot();

-- Covering for the analytics query by agent: filters (survey, test, created_at,
-- distribution), key and the counted statuses. Unlike the SQLite index it leaves out
-- `answers`: a PostgreSQL btree entry is limited in size and an answers document may be
-- large (0003 replaces this index anyway).
CREATE INDEX invites_analytics_by_agent ON invites
    (survey, test, agent, status, response_status, last_sent_at, created_at, distribution);
