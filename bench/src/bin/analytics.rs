//! `analytics`: times `GET /api/v1/analytics`'s query (`Store::analytics`, by agent unless
//! `--group-by` says otherwise)
//! over a temporary SQLite file holding N synthetic invites (default 1,000,000).
//!
//! The invites are generated inside SQLite by a recursive CTE, a few transactions of
//! 100,000 rows each: going through `StoreTx::insert_invite` row by row would time the
//! insert path, which is not what this measures. The schema is the service's own
//! (`Store::migrate`), indexes included.
//!
//! ```sh
//! cargo run --release -p closeloop-bench --bin analytics -- [--invites 1000000] [--runs 5] \
//!     [--group-by agent] [--uncached-scores]
//! ```

use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Parser;
use closeloop_store::{AnalyticsQuery, GroupBy, Store};

/// Rows per insert transaction.
const CHUNK: i64 = 100_000;
/// 2026-03-01T00:00:00Z: the synthetic invites are created one second apart from here.
const T0: i64 = 1_772_323_200_000;

/// Benchmark of the analytics query.
#[derive(Debug, Parser)]
#[command(name = "analytics")]
struct Args {
    /// Synthetic invites to insert.
    #[arg(long, default_value_t = 1_000_000)]
    invites: i64,
    /// Timed runs of the query (the median is reported).
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// Distinct agents.
    #[arg(long, default_value_t = 97)]
    agents: i64,
    /// The grouping to time (agent, case_type, region, queue, language, day).
    #[arg(long, default_value = "agent")]
    group_by: String,
    /// Leave the responses' numeric score columns empty, as for answers saved before
    /// migration 0003 (the query then reads every score from the answers JSON).
    #[arg(long)]
    uncached_scores: bool,
    /// Keep the database in this file (it must not exist) instead of a temporary one.
    #[arg(long)]
    database: Option<std::path::PathBuf>,
}

/// One chunk of synthetic invites, rows `$1 ≤ i < $2`: 90% of survey `csat` (the one the
/// query asks for), 2% test invites, a spread of statuses (85% accepted by the provider),
/// and of those 20% completed and 10% partial responses (score, NPS and a comment), their
/// scores also in the numeric columns `StoreTx::save_answers` keeps (unless `$5` is false:
/// responses saved before migration 0003).
const INSERT: &str = "INSERT INTO invites (id, case_id, survey, distribution, channel, status, \
      response_status, language, language_source, recipient, recipient_source, account, token, \
      expires_at, test, once_per_case, reason, snapshot, settings, answers, last_sent_at, \
      created_at, updated_at, rating_question, rating, nps_question, nps) \
    WITH RECURSIVE n(i) AS (SELECT $1 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < $2) \
    SELECT 'inv_' || i, 'C-' || i, CASE WHEN i % 10 = 9 THEN 'other' ELSE 'csat' END, \
      'csat-wa', 'whatsapp', \
      CASE WHEN i % 100 < 5 THEN 'failed' WHEN i % 100 < 8 THEN 'quarantined' \
           WHEN i % 100 < 10 THEN 'suppressed' WHEN i % 100 < 12 THEN 'unsubscribed' \
           WHEN i % 100 < 15 THEN 'pending' WHEN i % 100 < 30 THEN 'sent' \
           WHEN i % 100 < 55 THEN 'delivered' ELSE 'opened' END, \
      CASE WHEN i % 100 < 15 THEN 'not_started' WHEN i % 5 = 0 THEN 'completed' \
           WHEN i % 20 = 1 THEN 'in_progress' WHEN i % 20 = 2 THEN 'partially_completed' \
           ELSE 'not_started' END, \
      CASE i % 3 WHEN 0 THEN 'en' WHEN 1 THEN 'es' ELSE 'pt_BR' END, 'translation', \
      '+3460' || printf('%07d', i), 'profile.phone', 'support-wa', 'tok' || i, \
      $3 + i * 1000 + 604800000, i % 50 = 7, 1, NULL, \
      json_object('case_type', CASE i % 2 WHEN 0 THEN 'billing' ELSE 'technical' END, \
                  'region', CASE i % 4 WHEN 0 THEN 'EMEA' WHEN 1 THEN 'AMER' ELSE 'APAC' END, \
                  'assignee', 'agent-' || (i % $4), 'queue', 'survey-sent', 'priority', 'high'), \
      '{}', \
      CASE WHEN i % 100 < 15 THEN '{}' WHEN i % 5 = 0 OR i % 20 IN (1, 2) \
           THEN json_object('score', 1 + (i / 5) % 5, 'nps', (i / 5) % 11, 'comment', 'ok') ELSE '{}' END, \
      CASE WHEN i % 100 < 5 OR i % 100 >= 15 THEN $3 + i * 1000 END, \
      $3 + i * 1000, $3 + i * 1000, \
      CASE WHEN $5 AND i % 100 >= 15 AND (i % 5 = 0 OR i % 20 IN (1, 2)) THEN 'score' END, \
      CASE WHEN $5 AND i % 100 >= 15 AND (i % 5 = 0 OR i % 20 IN (1, 2)) THEN 1 + (i / 5) % 5 END, \
      CASE WHEN $5 AND i % 100 >= 15 AND (i % 5 = 0 OR i % 20 IN (1, 2)) THEN 'nps' END, \
      CASE WHEN $5 AND i % 100 >= 15 AND (i % 5 = 0 OR i % 20 IN (1, 2)) THEN (i / 5) % 11 END \
    FROM n";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let group_by = GroupBy::parse(&args.group_by)
        .with_context(|| format!("unknown grouping {:?}", args.group_by))?;
    let dir = tempfile::tempdir().context("temp dir")?;
    let path = match &args.database {
        Some(path) if path.exists() => anyhow::bail!("{} exists", path.display()),
        Some(path) => path.clone(),
        None => dir.path().join("analytics.db"),
    };
    let url = format!("sqlite://{}", path.display());
    let store = Store::open(&url).await?;
    store.migrate().await?;

    // The store has no bulk-load API (the service never needs one); a plain connection to
    // the same file does the synthetic insert.
    let started = Instant::now();
    let pool = sqlx::SqlitePool::connect(&url).await?;
    let mut start = 0;
    while start < args.invites {
        let end = (start + CHUNK).min(args.invites);
        let mut tx = pool.begin().await?;
        sqlx::query(INSERT)
            .bind(start)
            .bind(end)
            .bind(T0)
            .bind(args.agents.max(1))
            .bind(!args.uncached_scores)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        start = end;
    }
    pool.close().await;
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    println!(
        "inserted {} invites in {:.1} s ({} MiB)",
        args.invites,
        started.elapsed().as_secs_f64(),
        size / (1024 * 1024)
    );

    let query = AnalyticsQuery {
        survey: "csat",
        distribution: None,
        group_by: Some(group_by),
        from: None,
        to: None,
        rating_question: Some("score"),
        nps_question: Some("nps"),
    };
    let mut times = Vec::with_capacity(args.runs);
    let mut groups = 0;
    let mut invited = 0;
    for run in 1..=args.runs.max(1) {
        let started = Instant::now();
        let rows = store.analytics(&query).await?;
        let took = started.elapsed();
        groups = rows.len();
        invited = rows.iter().map(|r| r.invited).sum();
        println!("run {run}: {:.1} ms", ms(took));
        times.push(took);
    }
    times.sort();
    let median = times[times.len() / 2];
    println!(
        "analytics grouped by {} over {} invites ({groups} groups, {invited} counted): \
         median {:.1} ms of {} runs (min {:.1}, max {:.1})",
        group_by.as_str(),
        args.invites,
        ms(median),
        times.len(),
        ms(times[0]),
        ms(times[times.len() - 1])
    );
    store.close().await;
    Ok(())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
