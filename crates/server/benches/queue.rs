//! `cargo bench -p closeloop --bench queue`: one scheduled run of a queue rule over a queue
//! holding many idle cases of which 1,000 are due. The run's cost should follow the number
//! of cases due, not the number stored (issue 3's performance target).

use std::time::{Duration, Instant};

use closeloop::app::Clock;
use closeloop::app::{self, StartOptions};

const DUE: i64 = 1_000;

const CONFIG: &str = r#"
public_url: http://127.0.0.1:8080
accounts:
  - { id: wa, provider: sandbox, access_token: t, app_secret: s }
surveys:
  - id: csat
    owner: alice
    default_language: en
    languages: [en]
    questions: [ { id: score, type: rating, required: true, text: { en: "Score?" } } ]
distributions:
  - id: csat-wa
    survey: csat
    channel: whatsapp
    schedule: trigger_based
    sender_account: wa
    messages:
      invitation: { template: csat_invite, languages: { en: en_US }, body: "Hi {{1}}", body_params: ["{{survey.link}}"] }
      reminder: { template: csat_reminder, languages: { en: en_US }, body: "Reminder {{1}}", body_params: ["{{survey.link}}"] }
rules:
  - id: remind
    on: { queue: survey-sent, every: 15m }
    when:
      all:
        - survey.invite_status: { survey: csat, channel: whatsapp, distribution: csat-wa, not_in: [failed, quarantined, suppressed, unsubscribed] }
        - survey.response_status: { survey: csat, channel: whatsapp, distribution: csat-wa, not_in: [completed] }
        - survey.last_sent_before: { survey: csat, channel: whatsapp, distribution: csat-wa, duration: 24h }
    then:
      - send_survey_reminder: { survey: csat, channel: whatsapp, distribution: csat-wa }
"#;

/// Stores `stored` cases in the queue, all scheduled far ahead except `DUE` of them.
async fn seed(url: &str, stored: i64) -> anyhow::Result<()> {
    let store = closeloop_store::Store::open(url).await?;
    store.migrate().await?;
    store.close().await;
    let pool = sqlx::SqlitePool::connect(url).await?;
    let mut tx = pool.begin().await?;
    let far = i64::MAX / 4;
    for chunk in (0..stored).collect::<Vec<_>>().chunks(500) {
        let mut cases = String::from(
            "INSERT INTO cases (id, state, queue, version, created_at, updated_at) VALUES ",
        );
        let mut schedule =
            String::from("INSERT INTO queue_schedule (rule_id, case_id, due_at, every_ms) VALUES ");
        for (n, i) in chunk.iter().enumerate() {
            let sep = if n == 0 { "" } else { "," };
            cases.push_str(&format!(
                "{sep}('C-{i:07}', '{{\"id\":\"C-{i:07}\",\"status\":\"Resolved\",\"queue\":\"survey-sent\"}}', 'survey-sent', 1, 0, 0)"
            ));
            let due = if *i < DUE { 0 } else { far };
            schedule.push_str(&format!("{sep}('remind', 'C-{i:07}', {due}, 900000)"));
        }
        sqlx::query(&cases).execute(&mut *tx).await?;
        sqlx::query(&schedule).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    pool.close().await;
    Ok(())
}

async fn measure(stored: i64) -> anyhow::Result<(Duration, Duration)> {
    let dir = tempfile::tempdir()?;
    let url = format!("sqlite://{}", dir.path().join("queue.db").display());
    seed(&url, stored).await?;
    let document =
        closeloop_domain::config::load_str(CONFIG, &|_| None, time::OffsetDateTime::now_utc())
            .map_err(|e| anyhow::anyhow!("{e:?}"))?
            .document;
    let started = Instant::now();
    let running = app::start(StartOptions {
        document,
        database_url: url,
        listen: "127.0.0.1:0".parse()?,
        clock: Clock::real(),
        secret_key: None,
        http: closeloop::app::HttpLimits::default(),
        wal_checkpoint: closeloop_store::WalCheckpoint::LARGE,
    })
    .await?;
    let startup = started.elapsed();
    let run_started = Instant::now();
    let scheduled = running.metrics().events.with_label_values(&["scheduled"]);
    while scheduled.get() < DUE as u64 {
        if run_started.elapsed() > Duration::from_secs(120) {
            anyhow::bail!(
                "the run did not finish: {} of {DUE} evaluated",
                scheduled.get()
            );
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let run = run_started.elapsed();
    running.stop().await;
    Ok((startup, run))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    println!("| cases stored in the queue | due | start-up (schedule reconcile) | scheduled run (≤ 250 ms tick wait + evaluation of the due cases) |");
    println!("|---:|---:|---:|---:|");
    for stored in [10_000, 100_000, 1_000_000] {
        let (startup, run) = measure(stored).await?;
        println!(
            "| {stored} | {DUE} | {:.0} ms | {:.0} ms |",
            startup.as_secs_f64() * 1e3,
            run.as_secs_f64() * 1e3
        );
    }
    Ok(())
}
