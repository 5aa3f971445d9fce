//! The load phases. Each one drives the service for a fixed wall time and hands back a
//! [`Tally`]: request counts, an HDR histogram of request latency (µs) and, for every
//! resolving update the service accepted, the case number and when the answer arrived, so
//! invitations can be joined back to their PUT afterwards ([`drain`]).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use closeloop_wamock::MockCloud;
use hdrhistogram::Histogram;
use serde_json::Value;
use tokio::sync::{mpsc, Semaphore};
use tokio::task::JoinSet;

use crate::workload::{self, Sequence, Update};

/// Upper bound of every latency histogram: 60 s in µs (longer samples are clamped).
const MAX_LATENCY_US: u64 = 60_000_000;
/// A hard cap on requests per closed-loop task, so a loop is bounded in count as well as time.
const MAX_REQUESTS_PER_TASK: u64 = 10_000_000;
/// Distinct error texts kept for the report; more would only repeat.
const MAX_ERROR_SAMPLES: usize = 5;
/// Stop waiting for invitations when none arrived for this long: the pipeline has stalled
/// and waiting for the full drain timeout would only hide it.
const STALL: Duration = Duration::from_secs(15);

/// What every phase needs: the client, the service processes' API bases and the run's id
/// counter.
pub struct Ctx {
    pub http: reqwest::Client,
    /// `http://127.0.0.1:PORT/api/v1`, one per process, in start order (never empty).
    pub api: Vec<String>,
    pub seq: Sequence,
}

impl Ctx {
    /// The API base that takes the update with sequence number `seq`: round robin over the
    /// processes by pairs of numbers. Even numbers resolve and odd ones do not, so a plain
    /// `seq % processes` would give one of two processes every resolving update and the
    /// other none; by pairs, every process gets the same half-and-half mix.
    pub fn api_for(&self, seq: u64) -> &str {
        let processes = self.api.len() as u64;
        let index = usize::try_from((seq / 2) % processes.max(1)).unwrap_or(0);
        &self.api[index]
    }

    /// The first process's API base (batches go there only).
    pub fn first_api(&self) -> &str {
        &self.api[0]
    }
}

/// A latency histogram in µs, 3 significant digits.
pub fn histogram() -> Histogram<u64> {
    // The bounds are constants that hdrhistogram accepts (low ≥ 1, high ≥ 2·low, sigfig ≤ 5).
    Histogram::new_with_bounds(1, MAX_LATENCY_US, 3).expect("valid histogram bounds")
}

/// One phase's counts.
pub struct Tally {
    /// Requests sent (a batch is one request).
    pub requests: u64,
    /// Requests answered 2xx.
    pub ok: u64,
    /// Requests answered otherwise or not answered at all.
    pub errors: u64,
    /// Updates the service accepted (2xx PUTs, or 2xx lines of batches).
    pub accepted: u64,
    /// Request latency, µs.
    pub latency: Histogram<u64>,
    /// Accepted resolving updates: case number → when the answer arrived.
    pub expected: HashMap<u64, Instant>,
    /// A few distinct error texts.
    pub error_samples: Vec<String>,
}

impl Tally {
    pub fn new() -> Tally {
        Tally {
            requests: 0,
            ok: 0,
            errors: 0,
            accepted: 0,
            latency: histogram(),
            expected: HashMap::new(),
            error_samples: Vec::new(),
        }
    }

    fn latency(&mut self, elapsed: Duration) {
        self.latency.saturating_record(
            u64::try_from(elapsed.as_micros())
                .unwrap_or(u64::MAX)
                .max(1),
        );
    }

    fn error(&mut self, text: String) {
        self.errors += 1;
        if self.error_samples.len() < MAX_ERROR_SAMPLES && !self.error_samples.contains(&text) {
            self.error_samples.push(text);
        }
    }

    /// Counts one PUT whose latency runs from `start` (sent or, open-loop, scheduled).
    fn put(&mut self, update: &Update, start: Instant, outcome: Outcome) {
        self.requests += 1;
        self.latency(outcome.answered.saturating_duration_since(start));
        match outcome.result {
            Ok(status) if (200..300).contains(&status) => {
                self.ok += 1;
                self.accepted += 1;
                if update.resolves {
                    self.expected.insert(update.number, outcome.answered);
                }
            }
            Ok(status) => self.error(format!("HTTP {status}")),
            Err(text) => self.error(text),
        }
    }

    /// Folds another task's tally into this one.
    pub fn merge(&mut self, other: Tally) {
        self.requests += other.requests;
        self.ok += other.ok;
        self.errors += other.errors;
        self.accepted += other.accepted;
        // Same bounds on both sides, so adding cannot fail; a failure would only lose samples.
        let _ = self.latency.add(&other.latency);
        self.expected.extend(other.expected);
        for text in other.error_samples {
            if self.error_samples.len() < MAX_ERROR_SAMPLES && !self.error_samples.contains(&text) {
                self.error_samples.push(text);
            }
        }
    }
}

/// The answer to one request: its HTTP status (or the transport error) and when it ended.
struct Outcome {
    result: Result<u16, String>,
    answered: Instant,
}

/// Sends one PUT and reads the whole answer (an unread body would keep the connection
/// out of the pool).
async fn put(ctx: &Ctx, update: &Update) -> Outcome {
    let result = async {
        let response = ctx
            .http
            .put(format!(
                "{}/cases/{}",
                ctx.api_for(update.number),
                update.id
            ))
            .json(&update.body)
            .send()
            .await?;
        let status = response.status().as_u16();
        response.bytes().await?;
        Ok::<u16, reqwest::Error>(status)
    }
    .await
    .map_err(|e| transport_error(&e));
    Outcome {
        result,
        answered: Instant::now(),
    }
}

fn transport_error(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timeout".into()
    } else if e.is_connect() {
        "connect error".into()
    } else {
        format!("transport error: {e}")
    }
}

/// Closed loop: `concurrency` tasks, each sending its next PUT as soon as the previous one
/// was answered, until `duration` has passed.
pub async fn put_closed(ctx: &Arc<Ctx>, concurrency: usize, duration: Duration) -> Tally {
    let deadline = Instant::now() + duration;
    let mut tasks = JoinSet::new();
    for _ in 0..concurrency {
        let ctx = ctx.clone();
        tasks.spawn(async move {
            let mut tally = Tally::new();
            while Instant::now() < deadline && tally.requests < MAX_REQUESTS_PER_TASK {
                let update = workload::update(ctx.seq.next());
                let sent = Instant::now();
                let outcome = put(&ctx, &update).await;
                tally.put(&update, sent, outcome);
            }
            tally
        });
    }
    join_tallies(tasks).await
}

/// Open loop: PUT number `i` is due at `start + i/rate`, whether or not earlier ones were
/// answered. Latency runs from the due time, so a service (or client) that falls behind
/// shows it in the percentiles instead of silently lowering the offered rate. At most
/// `max_in_flight` requests are outstanding; past that, sending waits (and that wait counts).
pub async fn put_open(
    ctx: &Arc<Ctx>,
    rate: u32,
    duration: Duration,
    max_in_flight: usize,
) -> anyhow::Result<Tally> {
    let total = (f64::from(rate) * duration.as_secs_f64()).round() as u64;
    let period = Duration::from_secs_f64(1.0 / f64::from(rate));
    let permits = Arc::new(Semaphore::new(max_in_flight));
    // Each request reports on a channel: a per-request histogram would be 100+ KiB.
    let (tx, mut rx) = mpsc::unbounded_channel::<(Update, Instant, Outcome)>();
    let collector = tokio::spawn(async move {
        let mut tally = Tally::new();
        while let Some((update, due, outcome)) = rx.recv().await {
            tally.put(&update, due, outcome);
        }
        tally
    });
    let start = tokio::time::Instant::now();
    for i in 0..total {
        let due = start + period.mul_f64(i as f64);
        tokio::time::sleep_until(due).await;
        let permit = permits
            .clone()
            .acquire_owned()
            .await
            .context("the in-flight semaphore closed")?;
        let ctx = ctx.clone();
        let tx = tx.clone();
        let due = due.into_std();
        tokio::spawn(async move {
            let update = workload::update(ctx.seq.next());
            let outcome = put(&ctx, &update).await;
            drop(permit);
            // The collector lives until every sender is gone; a send cannot fail before.
            let _ = tx.send((update, due, outcome));
        });
    }
    drop(tx);
    collector.await.context("the open-loop collector panicked")
}

/// Batches: `tasks` tasks each POSTing NDJSON bodies of `lines` updates until `duration`
/// has passed. A line counts as accepted when its per-line status is 2xx.
pub async fn batch(ctx: &Arc<Ctx>, tasks: usize, lines: usize, duration: Duration) -> Tally {
    let deadline = Instant::now() + duration;
    let mut set = JoinSet::new();
    for _ in 0..tasks {
        let ctx = ctx.clone();
        set.spawn(async move {
            let mut tally = Tally::new();
            while Instant::now() < deadline && tally.requests < MAX_REQUESTS_PER_TASK {
                let updates: Vec<Update> = (0..lines)
                    .map(|_| workload::update(ctx.seq.next()))
                    .collect();
                let body: String = updates
                    .iter()
                    .map(|u| workload::batch_line(u) + "\n")
                    .collect();
                let sent = Instant::now();
                let answer = post_batch(&ctx, body).await;
                let answered = Instant::now();
                tally.requests += 1;
                tally.latency(answered.saturating_duration_since(sent));
                match answer {
                    Ok((status, body)) if (200..300).contains(&status) => {
                        tally.ok += 1;
                        count_lines(&mut tally, &updates, &body, answered);
                    }
                    Ok((status, _)) => tally.error(format!("batch HTTP {status}")),
                    Err(text) => tally.error(text),
                }
            }
            tally
        });
    }
    join_tallies(set).await
}

async fn post_batch(ctx: &Ctx, body: String) -> Result<(u16, Value), String> {
    let response = ctx
        .http
        .post(format!("{}/cases:batch", ctx.first_api()))
        .header("content-type", "application/x-ndjson")
        .body(body)
        .send()
        .await
        .map_err(|e| transport_error(&e))?;
    let status = response.status().as_u16();
    let bytes = response.bytes().await.map_err(|e| transport_error(&e))?;
    Ok((
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    ))
}

/// Reads a batch answer's per-line results (`line` is 1-based into the body).
fn count_lines(tally: &mut Tally, updates: &[Update], answer: &Value, answered: Instant) {
    let Some(results) = answer["results"].as_array() else {
        tally.error("batch answer without results".into());
        return;
    };
    for result in results {
        let status = result["status"].as_u64().unwrap_or(0);
        let update = result["line"]
            .as_u64()
            .and_then(|l| updates.get(usize::try_from(l).ok()?.checked_sub(1)?));
        if !(200..300).contains(&status) {
            tally.error(format!("batch line {status}"));
            continue;
        }
        tally.accepted += 1;
        if let Some(update) = update.filter(|u| u.resolves) {
            tally.expected.insert(update.number, answered);
        }
    }
}

async fn join_tallies(mut tasks: JoinSet<Tally>) -> Tally {
    let mut total = Tally::new();
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(tally) => total.merge(tally),
            Err(e) => total.error(format!("load task failed: {e}")),
        }
    }
    total
}

/// How the invitations of one phase arrived at the mock.
pub struct Delivery {
    pub expected: usize,
    /// Distinct expected case numbers that arrived.
    pub arrived: usize,
    /// Extra messages for a case number that had already arrived.
    pub duplicates: usize,
    /// Arrivals the mock saw before the PUT's answer reached the client (counted as 0 µs):
    /// the service commits, then answers, and its workers may be faster than the answer.
    pub early: usize,
    /// Case-to-message latency, µs: mock arrival − PUT answered.
    pub latency: Histogram<u64>,
    /// From the end of the load to the last expected arrival.
    pub tail: Duration,
}

/// Waits (at most `timeout`, and less if arrivals stall) until every expected invitation
/// arrived at the mock, then joins them to the answers by case number. `seen_before` is
/// the mock's message count when the phase started.
pub async fn drain(
    mock: &MockCloud,
    expected: &HashMap<u64, Instant>,
    seen_before: usize,
    load_end: Instant,
    timeout: Duration,
) -> Delivery {
    let deadline = Instant::now() + timeout;
    let mut target = seen_before + expected.len();
    let mut last_len = None;
    loop {
        let wait = deadline
            .saturating_duration_since(Instant::now())
            .min(STALL);
        let received = mock.wait_for_messages(target, wait).await;
        let delivery = join(
            &received[seen_before.min(received.len())..],
            expected,
            load_end,
        );
        let missing = delivery.expected - delivery.arrived;
        let stalled = last_len == Some(received.len());
        if missing == 0 || stalled || Instant::now() >= deadline {
            return delivery;
        }
        last_len = Some(received.len());
        target = received.len() + missing;
    }
}

fn join(
    received: &[closeloop_wamock::Received],
    expected: &HashMap<u64, Instant>,
    load_end: Instant,
) -> Delivery {
    let mut seen = HashSet::new();
    let mut delivery = Delivery {
        expected: expected.len(),
        arrived: 0,
        duplicates: 0,
        early: 0,
        latency: histogram(),
        tail: Duration::ZERO,
    };
    for message in received {
        let Some(number) = workload::case_number_of(&message.body) else {
            continue;
        };
        let Some(answered) = expected.get(&number) else {
            continue;
        };
        if !seen.insert(number) {
            delivery.duplicates += 1;
            continue;
        }
        delivery.arrived += 1;
        if message.at < *answered {
            delivery.early += 1;
        }
        let micros = message.at.saturating_duration_since(*answered).as_micros();
        delivery
            .latency
            .saturating_record(u64::try_from(micros).unwrap_or(u64::MAX).max(1));
        delivery.tail = delivery
            .tail
            .max(message.at.saturating_duration_since(load_end));
    }
    delivery
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(processes: usize) -> Ctx {
        Ctx {
            http: reqwest::Client::new(),
            api: (1..=processes).map(|i| format!("http://p{i}")).collect(),
            seq: Sequence::default(),
        }
    }

    #[test]
    fn puts_spread_over_processes_with_the_same_mix() {
        let ctx = ctx(2);
        let picks: Vec<&str> = (1..=8).map(|n| ctx.api_for(n)).collect();
        assert_eq!(
            picks,
            [
                "http://p1",
                "http://p2",
                "http://p2",
                "http://p1",
                "http://p1",
                "http://p2",
                "http://p2",
                "http://p1"
            ]
        );
        // Each process gets resolving (even) and non-resolving (odd) numbers alike.
        for api in &ctx.api {
            let mine: Vec<u64> = (1..=400).filter(|&n| ctx.api_for(n) == api).collect();
            assert_eq!(mine.len(), 200);
            assert_eq!(mine.iter().filter(|&&n| n % 2 == 0).count(), 100);
        }
        assert_eq!(ctx.first_api(), "http://p1");
    }

    #[test]
    fn one_process_takes_everything() {
        let ctx = ctx(1);
        assert!((1..=10).all(|n| ctx.api_for(n) == "http://p1"));
    }
}
