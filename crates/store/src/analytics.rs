//! Survey analytics (`GET /api/v1/analytics`): invite and response counts per group,
//! aggregated by the database (one `GROUP BY` over `invites`, never a scan in memory).
//!
//! Invites are attributed to the case attributes frozen in their `snapshot` when they were
//! created (SPEC §4.13), so a case reassigned later still counts for the agent it had.
//! Test invites are never counted.
//!
//! Definitions (each over the non-test invites of the survey that pass the filters):
//! - `invited`: every invite, whatever its status (including not-sent ones);
//! - `sent`: status `sent`, `delivered` or `opened`; `delivered`: `delivered` or `opened`;
//!   `opened`: `opened`; `failed`, `quarantined`, `suppressed`, `unsubscribed`: that status;
//! - `reached` (the response-rate denominator): `sent`, plus `failed`/`unsubscribed` invites
//!   the provider had accepted before (`last_sent_at` set) — the customer got the link;
//! - `responses`: response status `in_progress`, `partially_completed` or `completed`;
//!   `completed`: `completed`;
//! - the rating sum/count: the rating question's answer over completed responses;
//! - the NPS counts: every response that answered the NPS question (submitted or not),
//!   split into promoters (9–10) and detractors (0–6).
//!
//! Answers are validated when saved (rating 1–5, NPS 0–10), so they are read as numbers.
//! `save_answers` also keeps the answers to the survey's rating and NPS questions in
//! numeric columns, each with the question it holds (migration `0003`); the query reads
//! those columns when they hold the questions asked about, and the answers JSON otherwise
//! (responses saved before `0003`, or under a config with other questions), so the
//! numbers never depend on when the answers were saved.

use sqlx::Row;

use crate::{Backend, Result, Store};

/// The attribute analytics group by.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum GroupBy {
    /// The case's assignee when the invite was created.
    Agent,
    /// The case type then.
    CaseType,
    /// The region then.
    Region,
    /// The queue then.
    Queue,
    /// The invite's language.
    Language,
    /// The UTC day the invite was created (`YYYY-MM-DD`).
    Day,
}

impl GroupBy {
    /// Every grouping, in the order the API documents them.
    pub const ALL: [GroupBy; 6] = [
        GroupBy::Agent,
        GroupBy::CaseType,
        GroupBy::Region,
        GroupBy::Queue,
        GroupBy::Language,
        GroupBy::Day,
    ];

    /// The API name.
    pub fn as_str(&self) -> &'static str {
        match self {
            GroupBy::Agent => "agent",
            GroupBy::CaseType => "case_type",
            GroupBy::Region => "region",
            GroupBy::Queue => "queue",
            GroupBy::Language => "language",
            GroupBy::Day => "day",
        }
    }

    /// The grouping named `name`.
    pub fn parse(name: &str) -> Option<GroupBy> {
        GroupBy::ALL.into_iter().find(|g| g.as_str() == name)
    }

    /// The SQL expression of the key on a backend. Always one of these constants, never
    /// caller text, so nothing from a request reaches the statement's text.
    fn key_sql(&self, db: Backend) -> &'static str {
        match (self, db) {
            // `agent` is a column copied from the snapshot (0002_analytics.sql) with an
            // index, so grouping by agent reads the index in key order instead of parsing
            // every snapshot and sorting.
            (GroupBy::Agent, _) => "agent",
            (GroupBy::Language, _) => "language",
            (GroupBy::CaseType, Backend::Sqlite) => "json_extract(snapshot, '$.case_type')",
            (GroupBy::Region, Backend::Sqlite) => "json_extract(snapshot, '$.region')",
            (GroupBy::Queue, Backend::Sqlite) => "json_extract(snapshot, '$.queue')",
            (GroupBy::Day, Backend::Sqlite) => {
                "strftime('%Y-%m-%d', created_at / 1000, 'unixepoch')"
            }
            (GroupBy::CaseType, Backend::Postgres) => "(snapshot::jsonb ->> 'case_type')",
            (GroupBy::Region, Backend::Postgres) => "(snapshot::jsonb ->> 'region')",
            (GroupBy::Queue, Backend::Postgres) => "(snapshot::jsonb ->> 'queue')",
            (GroupBy::Day, Backend::Postgres) => {
                "to_char(to_timestamp(created_at / 1000.0) AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
            }
        }
    }
}

/// What to aggregate.
#[derive(Clone, Debug)]
pub struct AnalyticsQuery<'a> {
    /// Only invites of this survey.
    pub survey: &'a str,
    /// Only invites of this distribution.
    pub distribution: Option<&'a str>,
    /// The grouping; `None` answers one row of totals (key `None`), even over no invites.
    pub group_by: Option<GroupBy>,
    /// Only invites created at or after this instant (unix ms).
    pub from: Option<i64>,
    /// Only invites created before this instant (unix ms).
    pub to: Option<i64>,
    /// Id of the survey's rating question (the CSAT score), if it has one.
    pub rating_question: Option<&'a str>,
    /// Id of the survey's NPS question, if it has one.
    pub nps_question: Option<&'a str>,
}

/// The questions whose answers [`crate::StoreTx::save_answers`] keeps as numbers for
/// analytics: the survey's first rating question and first NPS question (`None` when it
/// has none).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct ScoreQuestions<'a> {
    /// The rating (CSAT) question.
    pub rating: Option<&'a str>,
    /// The NPS question.
    pub nps: Option<&'a str>,
}

/// The cached score of `question` in `answers`: `(Some(question), its integer answer or
/// None when unanswered)`, or `(None, None)` — not cached — when the answer is not an
/// integer. A survey without such a question caches the key `""`, the key the query reads
/// for it. Keeps `column = answers[question]` true, which is all the query relies on.
pub(crate) fn cached_score(
    answers: &serde_json::Map<String, serde_json::Value>,
    question: Option<&str>,
) -> (Option<String>, Option<i64>) {
    let question = question.unwrap_or("");
    match answers.get(question) {
        None => (Some(question.to_string()), None),
        Some(value) => match value.as_i64() {
            Some(score) => (Some(question.to_string()), Some(score)),
            None => (None, None),
        },
    }
}

/// The aggregated counts of one group.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AnalyticsRow {
    /// The group's key; `None` when the attribute was absent.
    pub key: Option<String>,
    /// Every invite.
    pub invited: i64,
    /// Accepted by the provider and not failed or unsubscribed since.
    pub sent: i64,
    /// Delivered (or read).
    pub delivered: i64,
    /// Read or link opened.
    pub opened: i64,
    /// Failed.
    pub failed: i64,
    /// Not sent: quarantine.
    pub quarantined: i64,
    /// Not sent: suppression list.
    pub suppressed: i64,
    /// Opted out after the invite.
    pub unsubscribed: i64,
    /// Invites whose link reached the customer (the response-rate denominator).
    pub reached: i64,
    /// Responses with at least one answer.
    pub responses: i64,
    /// Completed responses.
    pub completed: i64,
    /// Sum of the rating answers of completed responses.
    pub rating_sum: f64,
    /// Number of rating answers summed.
    pub rating_count: i64,
    /// Responses that answered the NPS question.
    pub nps_answered: i64,
    /// NPS answers 9–10.
    pub promoters: i64,
    /// NPS answers 0–6.
    pub detractors: i64,
}

impl AnalyticsRow {
    /// `completed / reached`, 0 when nothing reached a customer.
    pub fn response_rate(&self) -> f64 {
        if self.reached == 0 {
            0.0
        } else {
            self.completed as f64 / self.reached as f64
        }
    }

    /// The average rating of completed responses, `None` without any.
    pub fn csat_avg(&self) -> Option<f64> {
        (self.rating_count > 0).then(|| self.rating_sum / self.rating_count as f64)
    }

    /// % promoters − % detractors, rounded to one decimal; `None` without NPS answers.
    pub fn nps(&self) -> Option<f64> {
        (self.nps_answered > 0).then(|| {
            let score =
                100.0 * (self.promoters - self.detractors) as f64 / self.nps_answered as f64;
            (score * 10.0).round() / 10.0
        })
    }
}

/// A JSON path selecting one top-level key, quoted so any question id is taken literally.
fn answer_path(question: &str) -> String {
    format!(
        "$.\"{}\"",
        question.replace('\\', "\\\\").replace('"', "\\\"")
    )
}

impl Store {
    /// Aggregates the invites of a survey per group, ordered by key (absent keys last).
    ///
    /// # Errors
    /// On database failure.
    pub async fn analytics(&self, query: &AnalyticsQuery<'_>) -> Result<Vec<AnalyticsRow>> {
        // A survey without such a question asks about the key "" (which no answer has);
        // its cached scores are kept under the same key (`cached_score`).
        let rating = query.rating_question.unwrap_or("");
        let nps = query.nps_question.unwrap_or("");
        on_read!(self, c, db => {
            let sql = analytics_sql(query.group_by, db);
            let (rating_path, nps_path) = match db {
                Backend::Sqlite => (answer_path(rating), answer_path(nps)),
                Backend::Postgres => (rating.to_owned(), nps.to_owned()),
            };
            let rows = sqlx::query(&sql)
                .bind(query.survey)
                .bind(query.distribution)
                .bind(query.from)
                .bind(query.to)
                .bind(rating)
                .bind(nps)
                .bind(rating_path)
                .bind(nps_path)
                .fetch_all(c)
                .await?;
            let mut rows = rows.iter()
                .map(|r| {
                    // The sums are floats even over integers; the counts are exact below 2^53.
                    let count = |i: usize| r.try_get::<f64, _>(i).map(|v| v as i64);
                    Ok(AnalyticsRow {
                        key: r.try_get(0)?,
                        invited: r.try_get(1)?,
                        sent: count(2)?,
                        delivered: count(3)?,
                        opened: count(4)?,
                        failed: count(5)?,
                        quarantined: count(6)?,
                        suppressed: count(7)?,
                        unsubscribed: count(8)?,
                        reached: count(9)?,
                        responses: count(10)?,
                        completed: count(11)?,
                        rating_sum: r.try_get(12)?,
                        rating_count: count(13)?,
                        nps_answered: count(14)?,
                        promoters: count(15)?,
                        detractors: count(16)?,
                    })
                })
                .collect::<Result<Vec<AnalyticsRow>>>()?;
            if query.group_by.is_none() && rows.is_empty() {
                rows.push(AnalyticsRow::default());
            }
            Ok(rows)
        })
    }
}

/// The analytics statement of a backend.
///
/// Two levels. The inner one does as little as possible per invite: in the first part,
/// only group (by key, statuses and the cached scores — index order when grouping by
/// agent, so no sort) and count, no per-row CASE (per-row aggregates were most of the
/// cost at a million invites); `s` counts the invites of a group whose cached scores are
/// for the asked questions. The second part reads the scores of the other responses from
/// the answers JSON, one row each with n = 0 (usually none; an index finds them). The
/// outer level folds the few rows (key × statuses × scores) into the counts, a score
/// weighted by `s`.
fn analytics_sql(group_by: Option<GroupBy>, db: Backend) -> String {
    // Totals: every invite in one group whose key is NULL.
    let key = group_by.map_or("CAST(NULL AS TEXT)", |g| g.key_sql(db));
    let responses = "('in_progress', 'partially_completed', 'completed')";
    // A float sum that is 0 over no rows (SQLite's TOTAL).
    let total = |expr: &str| match db {
        Backend::Sqlite => format!("TOTAL({expr})"),
        Backend::Postgres => format!("COALESCE(SUM({expr}), 0)::float8"),
    };
    let invited = db.pick("SUM(n)", "SUM(n)::bigint");
    let answer = |param: &str| match db {
        Backend::Sqlite => format!("json_extract(answers, {param})"),
        Backend::Postgres => format!(
            "CASE WHEN answers::jsonb ->> {param} ~ '^-?[0-9]{{1,18}}$' \
             THEN (answers::jsonb ->> {param})::bigint END"
        ),
    };
    let sums = [
        "CASE WHEN status IN ('sent', 'delivered', 'opened') THEN n END".to_owned(),
        "CASE WHEN status IN ('delivered', 'opened') THEN n END".to_owned(),
        "CASE WHEN status = 'opened' THEN n END".to_owned(),
        "CASE WHEN status = 'failed' THEN n END".to_owned(),
        "CASE WHEN status = 'quarantined' THEN n END".to_owned(),
        "CASE WHEN status = 'suppressed' THEN n END".to_owned(),
        "CASE WHEN status = 'unsubscribed' THEN n END".to_owned(),
        "CASE WHEN status IN ('sent', 'delivered', 'opened') THEN n \
              WHEN status IN ('failed', 'unsubscribed') THEN accepted END"
            .to_owned(),
        format!("CASE WHEN response_status IN {responses} THEN n END"),
        "CASE WHEN response_status = 'completed' THEN n END".to_owned(),
        "CASE WHEN response_status = 'completed' THEN rating * s END".to_owned(),
        "CASE WHEN response_status = 'completed' AND rating IS NOT NULL THEN s END".to_owned(),
        format!("CASE WHEN response_status IN {responses} AND nps IS NOT NULL THEN s END"),
        format!("CASE WHEN response_status IN {responses} AND nps >= 9 THEN s END"),
        format!("CASE WHEN response_status IN {responses} AND nps <= 6 THEN s END"),
    ]
    .iter()
    .map(|e| total(e))
    .collect::<Vec<_>>()
    .join(", ");
    let (rating_answer, nps_answer) = (answer("$7"), answer("$8"));
    format!(
        "SELECT key, {invited}, {sums} \
         FROM (SELECT {key} AS key, status, response_status, rating, nps, \
                 COUNT(*) AS n, COUNT(last_sent_at) AS accepted, \
                 CASE WHEN rating_question = $5 AND nps_question = $6 THEN COUNT(*) ELSE 0 END AS s \
               FROM invites \
               WHERE survey = $1 AND test = FALSE \
                 AND ($2 IS NULL OR distribution = $2) \
                 AND ($3 IS NULL OR created_at >= $3) \
                 AND ($4 IS NULL OR created_at < $4) \
               GROUP BY key, status, response_status, rating_question, rating, nps_question, nps \
               UNION ALL \
               SELECT {key}, status, response_status, {rating_answer}, {nps_answer}, 0, 0, 1 \
               FROM invites \
               WHERE survey = $1 AND test = FALSE AND response_status IN {responses} \
                 AND (rating_question IS NULL OR nps_question IS NULL \
                      OR rating_question <> $5 OR nps_question <> $6) \
                 AND ($2 IS NULL OR distribution = $2) \
                 AND ($3 IS NULL OR created_at >= $3) \
                 AND ($4 IS NULL OR created_at < $4)) AS grouped \
         GROUP BY key ORDER BY key IS NULL, key"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::NewInvite;
    use closeloop_domain::status::{InviteStatus, ResponseStatus};
    use serde_json::json;

    const DAY: i64 = 86_400_000;
    // 2026-03-01T00:00:00Z
    const T0: i64 = 1_772_323_200_000;
    /// The questions `query` asks about, as the survey page saves them.
    const SCORED: ScoreQuestions<'static> = ScoreQuestions {
        rating: Some("score"),
        nps: Some("nps"),
    };

    struct Spec {
        agent: Option<&'static str>,
        status: InviteStatus,
        response: ResponseStatus,
        answers: serde_json::Value,
        test: bool,
        survey: &'static str,
        at: i64,
    }

    fn spec(agent: &'static str, status: InviteStatus) -> Spec {
        Spec {
            agent: Some(agent),
            status,
            response: ResponseStatus::NotStarted,
            answers: json!({}),
            test: false,
            survey: "csat",
            at: T0,
        }
    }

    async fn store_with(specs: Vec<Spec>) -> (Store, tempfile::TempDir) {
        store_scored_with(specs, SCORED).await
    }

    async fn store_scored_with(
        specs: Vec<Spec>,
        scored: ScoreQuestions<'static>,
    ) -> (Store, tempfile::TempDir) {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("a.db").display());
        let store = Store::open(&url).await.expect("open");
        store.migrate().await.expect("migrate");
        let mut tx = store.begin().await.expect("begin");
        for (i, s) in specs.into_iter().enumerate() {
            tx.insert_invite(&NewInvite {
                id: format!("inv_{i}"),
                case_id: format!("C-{i}"),
                survey: s.survey.into(),
                distribution: "csat-wa".into(),
                channel: "whatsapp".into(),
                status: s.status,
                language: if i % 2 == 0 { "en" } else { "es" }.into(),
                language_source: "default".into(),
                recipient: Some(format!("+3460000{i:04}")),
                recipient_source: "profile.phone".into(),
                account: "support-wa".into(),
                token: format!("tok{i}"),
                expires_at: s.at + 7 * DAY,
                test: s.test,
                once_per_case: true,
                reason: None,
                snapshot: json!({"assignee": s.agent, "case_type": "billing", "region": null}),
                settings: json!({}),
                now: s.at,
            })
            .await
            .expect("insert");
            if s.response != ResponseStatus::NotStarted {
                let answers = s.answers.as_object().cloned().unwrap_or_default();
                tx.save_answers(
                    &format!("inv_{i}"),
                    &answers,
                    s.response,
                    None,
                    scored,
                    s.at,
                )
                .await
                .expect("answers");
            }
        }
        tx.commit().await.expect("commit");
        (store, dir)
    }

    fn query(group_by: GroupBy) -> AnalyticsQuery<'static> {
        AnalyticsQuery {
            survey: "csat",
            distribution: None,
            group_by: Some(group_by),
            from: None,
            to: None,
            rating_question: Some("score"),
            nps_question: Some("nps"),
        }
    }

    fn answered(mut s: Spec, response: ResponseStatus, answers: serde_json::Value) -> Spec {
        s.response = response;
        s.answers = answers;
        s
    }

    /// Every status and response kind, a test invite, another survey, an absent agent.
    fn mixed() -> Vec<Spec> {
        use InviteStatus::*;
        use ResponseStatus::*;
        let mut test_invite = spec("a", Opened);
        test_invite.test = true;
        let mut other_survey = spec("a", Opened);
        other_survey.survey = "other";
        let mut no_agent = spec("a", Pending);
        no_agent.agent = None;
        vec![
            answered(spec("a", Opened), Completed, json!({"score": 5, "nps": 10})),
            answered(
                spec("a", Delivered),
                Completed,
                json!({"score": 2, "nps": 3}),
            ),
            answered(spec("a", Sent), InProgress, json!({"nps": 9})),
            spec("a", Failed),
            spec("a", Quarantined),
            test_invite,
            other_survey,
            answered(spec("b", Opened), InProgress, json!({"score": 4})),
            spec("b", Suppressed),
            spec("b", Unsubscribed),
            no_agent,
        ]
    }

    #[tokio::test]
    async fn counts_rates_and_scores_per_agent_without_test_invites() {
        let (store, _dir) = store_with(mixed()).await;
        let rows = store
            .analytics(&query(GroupBy::Agent))
            .await
            .expect("query");
        let keys: Vec<_> = rows.iter().map(|r| r.key.as_deref()).collect();
        assert_eq!(
            keys,
            vec![Some("a"), Some("b"), None],
            "ordered, absent key last"
        );
        let a = &rows[0];
        assert_eq!(
            (
                a.invited,
                a.sent,
                a.delivered,
                a.opened,
                a.failed,
                a.quarantined
            ),
            (5, 3, 2, 1, 1, 1)
        );
        assert_eq!((a.responses, a.completed, a.reached), (3, 2, 3));
        assert_eq!(a.csat_avg(), Some(3.5));
        // promoters 10, 9; detractor 3 → (2 − 1) / 3
        assert_eq!(a.nps(), Some(33.3));
        assert!((a.response_rate() - 2.0 / 3.0).abs() < 1e-9);
        let b = &rows[1];
        assert_eq!((b.invited, b.suppressed, b.unsubscribed), (3, 1, 1));
        assert_eq!(b.csat_avg(), None, "only completed responses are averaged");
        assert_eq!(b.nps(), None);
        assert_eq!(rows[2].response_rate(), 0.0);
    }

    #[tokio::test]
    async fn groups_by_day_and_language_and_filters_on_created_at() {
        let mut later = spec("a", InviteStatus::Opened);
        later.at = T0 + DAY + 5;
        let (store, _dir) = store_with(vec![
            spec("a", InviteStatus::Opened),
            spec("a", InviteStatus::Opened),
            later,
        ])
        .await;
        let days = store.analytics(&query(GroupBy::Day)).await.expect("query");
        let keys: Vec<_> = days.iter().map(|r| (r.key.clone(), r.invited)).collect();
        assert_eq!(
            keys,
            vec![
                (Some("2026-03-01".into()), 2),
                (Some("2026-03-02".into()), 1)
            ]
        );
        let languages = store
            .analytics(&query(GroupBy::Language))
            .await
            .expect("query");
        assert_eq!(languages.len(), 2);
        let mut window = query(GroupBy::Agent);
        window.from = Some(T0 + 1);
        assert_eq!(store.analytics(&window).await.expect("query")[0].invited, 1);
        window.from = Some(T0);
        window.to = Some(T0 + DAY);
        assert_eq!(store.analytics(&window).await.expect("query")[0].invited, 2);
        let mut unknown = query(GroupBy::Agent);
        unknown.survey = "nope";
        assert!(store.analytics(&unknown).await.expect("query").is_empty());
    }

    #[tokio::test]
    async fn scores_cached_for_other_questions_or_not_at_all_are_read_from_the_answers() {
        let (store, _dir) = store_with(mixed()).await;
        let want = store
            .analytics(&query(GroupBy::Agent))
            .await
            .expect("query");
        // Saved under a config whose rating/NPS questions were others, or none.
        for scored in [
            ScoreQuestions::default(),
            ScoreQuestions {
                rating: Some("nps"),
                nps: Some("score"),
            },
            ScoreQuestions {
                rating: Some("score"),
                nps: None,
            },
        ] {
            let (store, _dir) = store_scored_with(mixed(), scored).await;
            let rows = store
                .analytics(&query(GroupBy::Agent))
                .await
                .expect("query");
            assert_eq!(rows, want, "saved with {scored:?}");
        }
        // Saved before migration 0003: nothing cached.
        let mut tx = store.begin().await.expect("begin");
        on_tx!(tx, c => sqlx::query(
            "UPDATE invites SET rating_question = NULL, rating = NULL, nps_question = NULL, nps = NULL",
        )
        .execute(c)
        .await
        .map(|r| r.rows_affected()))
        .expect("forget");
        tx.commit().await.expect("commit");
        let rows = store
            .analytics(&query(GroupBy::Agent))
            .await
            .expect("query");
        assert_eq!(rows, want, "nothing cached");
        // Asked about other questions than the cached ones, or a survey without them.
        for (rating, nps) in [
            (Some("nps"), Some("score")),
            (None, None),
            (Some("score"), None),
        ] {
            let mut asked = query(GroupBy::Agent);
            asked.rating_question = rating;
            asked.nps_question = nps;
            let (cached, _dir) = store_with(mixed()).await;
            let (uncached, _dir2) =
                store_scored_with(mixed(), ScoreQuestions { rating, nps }).await;
            assert_eq!(
                cached.analytics(&asked).await.expect("query"),
                uncached.analytics(&asked).await.expect("query"),
                "asked about {rating:?}, {nps:?}"
            );
        }
    }

    #[test]
    fn a_cached_score_is_the_integer_answer_of_its_question() {
        let answers = json!({"score": 4, "nps": 9.5, "comment": "ok"});
        let answers = answers.as_object().expect("object");
        assert_eq!(
            cached_score(answers, Some("score")),
            (Some("score".into()), Some(4))
        );
        assert_eq!(
            cached_score(answers, Some("nps")),
            (None, None),
            "not an integer"
        );
        assert_eq!(
            cached_score(answers, Some("other")),
            (Some("other".into()), None)
        );
        assert_eq!(cached_score(answers, None), (Some(String::new()), None));
    }
}
