-- Analytics scores as numeric columns. Reading the CSAT and NPS answers from JSON
-- and folding them with per-row CASE aggregates made GET /analytics?group_by=agent cost
-- ~0.7–1.5 s at 1,000,000 invites (the per-row aggregates, more than the JSON itself).
--
-- Which question is "the survey's first rating (NPS) question" is config, known when the
-- answers are saved and again when analytics run, but the config may change in between.
-- So each column caches the answer to a named question, and says which one:
--   rating = the integer answers[rating_question] (NULL when absent);
--   nps    = the integer answers[nps_question]    (NULL when absent);
-- a NULL question means "not cached" (rows saved before this migration, or an answer that
-- is not an integer), and '' stands for "the survey had no such question" (answers[""],
-- the same key the query read for such surveys before). `StoreTx::save_answers` — the
-- only writer of `answers` — keeps the four columns with the answers. The analytics query
-- reads the columns of responses cached for the questions it asks about, and falls back
-- to reading the JSON for the other responses, so the result does not depend on when or
-- under which config the answers were saved.
--
-- No backfill: which questions to cache is config, which a migration does not have.
-- Responses saved before it are read from JSON, exactly as before, only more slowly.
ALTER TABLE invites ADD COLUMN rating_question TEXT;
ALTER TABLE invites ADD COLUMN rating BIGINT;
ALTER TABLE invites ADD COLUMN nps_question TEXT;
ALTER TABLE invites ADD COLUMN nps BIGINT;

-- Grouping by agent reads this index only, in key order (no sort): filters, key, the
-- counted statuses, the cached scores and their questions.
DROP INDEX invites_analytics_by_agent;
CREATE INDEX invites_analytics_by_agent ON invites
    (survey, test, agent, status, response_status, rating_question, rating, nps_question, nps,
     last_sent_at, created_at, distribution);

-- Finds the responses whose scores are not cached for the asked questions (the JSON
-- fallback) without scanning every invite of the survey.
CREATE INDEX invites_analytics_uncached ON invites
    (survey, test, response_status, rating_question, nps_question, created_at, distribution);
