//! Scale-out (SPEC §7): two `closeloop serve` processes on one PostgreSQL database, driven
//! over HTTP like a load balancer would, against the Cloud API mock. Each piece of work is
//! done by exactly one process, a killed process's work is taken over by the other, the
//! account's rate limit holds for both together, and a config change made through one
//! process is in force on the other within 5 s.
//!
//! The tests run on a multi-threaded runtime: the mock lives in the test's runtime and
//! timestamps each request when its handler runs, so a busy single thread would bunch
//! arrivals together and make the rate check see bursts that did not happen.
//!
//! These tests need PostgreSQL (`CLOSELOOP_TEST_POSTGRES`); without it each one says so and
//! passes. They run one at a time (each starts two processes with their own connection
//! pools and a burst of sends; together they would share two cores and the server's
//! connections with each other).

mod common;

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use closeloop_testdb::{postgres_server, HOW_TO_RUN_ON_POSTGRES};
use closeloop_wamock::MockCloud;
use common::*;
use serde_json::{json, Value};

/// The dispatcher's largest batch per account (`worker/dispatch.rs`, `MAX_BATCH`): the most
/// messages one process can have claimed, and so in flight, at any moment.
const DISPATCH_BATCH: usize = 64;

/// Requests in flight at once while the tests load the two processes.
const CONCURRENCY: usize = 32;

/// One test at a time (see the module comment).
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The PostgreSQL server, or `None` after saying why the test is skipped.
fn postgres_or_skip(test: &str) -> Option<String> {
    let server = postgres_server();
    if server.is_none() {
        println!("{test}: skipped: needs PostgreSQL; {HOW_TO_RUN_ON_POSTGRES}");
    }
    server
}

/// One `closeloop serve` child process. Dropping it kills it (a failing test leaves no
/// process behind) and, when the test is failing, prints the end of its log.
struct Process {
    name: &'static str,
    child: Child,
    url: String,
    log: PathBuf,
}

impl Process {
    fn start(name: &'static str, config: &Path, database: &str, dir: &Path) -> Process {
        let port = free_port();
        let log = dir.join(format!("{name}.log"));
        let stderr = File::create(&log).expect("log file");
        let child = serve_command(config, database, port)
            .env("NO_COLOR", "1")
            .stderr(Stdio::from(stderr))
            .spawn()
            .expect("closeloop serve starts");
        Process {
            name,
            child,
            url: format!("http://127.0.0.1:{port}"),
            log,
        }
    }

    fn api(&self, path: &str) -> String {
        format!("{}/api/v1{path}", self.url)
    }

    async fn wait_ready(&self, http: &reqwest::Client) {
        let ready = eventually(Duration::from_secs(30), || async {
            let r = http.get(format!("{}/readyz", self.url)).send().await.ok()?;
            (r.status() == 200).then_some(())
        })
        .await;
        assert!(
            ready.is_some(),
            "process {} did not become ready; its log:\n{}",
            self.name,
            self.log_tail(40)
        );
    }

    /// `kill -9`.
    fn kill(&mut self) {
        self.child.kill().expect("SIGKILL");
        let _ = self.child.wait();
    }

    /// The last `lines` lines of the process's stderr.
    fn log_tail(&self, lines: usize) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    /// Prints what the process logged (warnings and errors only: `RUST_LOG=warn`).
    fn print_log(&self) {
        let tail = self.log_tail(30);
        if !tail.trim().is_empty() {
            println!("--- log of process {} (last lines) ---\n{tail}", self.name);
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!(
                "--- log of process {} (last lines) ---\n{}",
                self.name,
                self.log_tail(60)
            );
        }
    }
}

/// Two processes on one fresh PostgreSQL database; the mock's webhooks go to `a`.
struct Cluster {
    mock: MockCloud,
    http: reqwest::Client,
    a: Process,
    b: Process,
    database: Option<TestDatabase>,
    _dir: tempfile::TempDir,
}

impl Cluster {
    async fn start(server: &str, options: Options) -> Cluster {
        let mock = start_mock().await;
        let dir = tempfile::tempdir().expect("temp dir");
        let config = dir.path().join("closeloop.yaml");
        std::fs::write(&config, config_yaml(&mock.api_base(), &options)).expect("config file");
        let database = TestDatabase::fresh_postgres(server).await;
        let http = reqwest::Client::new();
        // `serve` migrates at start: A first, and B only once A is ready, so the two never
        // race on the migrations.
        let a = Process::start("A", &config, database.url(), dir.path());
        a.wait_ready(&http).await;
        mock.set_webhook_url(&format!("{}/webhooks/whatsapp", a.url));
        let b = Process::start("B", &config, database.url(), dir.path());
        b.wait_ready(&http).await;
        Cluster {
            mock,
            http,
            a,
            b,
            database: Some(database),
            _dir: dir,
        }
    }

    /// The base URLs of A and B: case `i` goes to `urls[i % 2]`.
    fn urls(&self) -> [String; 2] {
        [self.a.url.clone(), self.b.url.clone()]
    }

    /// Stops both processes and drops the database.
    async fn finish(mut self) {
        self.a.print_log();
        self.b.print_log();
        self.a.kill();
        self.b.kill();
        if let Some(database) = self.database.take() {
            database.remove().await;
        }
    }
}

/// The phone of case number `i` of a test (`prefix` keeps the tests' numbers apart).
fn phone(prefix: &str, i: usize) -> String {
    format!("+{prefix}{i:04}")
}

/// The recipient as the mock records it (digits).
fn digits(phone: &str) -> String {
    phone.trim_start_matches('+').to_string()
}

/// PUTs a resolving case for each `(id, phone)`, alternating between the two processes,
/// `CONCURRENCY` at a time. Answers the requests that were not answered 2xx, with why.
async fn put_cases_alternating(
    http: &reqwest::Client,
    urls: [String; 2],
    cases: Vec<(String, String)>,
) -> Vec<String> {
    let cases = Arc::new(cases);
    let urls = Arc::new(urls);
    let mut tasks = Vec::new();
    for worker in 0..CONCURRENCY {
        let (http, cases, urls) = (http.clone(), cases.clone(), urls.clone());
        tasks.push(tokio::spawn(async move {
            let mut refused = Vec::new();
            for i in (worker..cases.len()).step_by(CONCURRENCY) {
                let (id, phone) = &cases[i];
                let url = &urls[i % 2];
                let answer = http
                    .put(format!("{url}/api/v1/cases/{id}"))
                    .json(&resolved_case(id, phone))
                    .send()
                    .await;
                match answer {
                    Ok(r) if r.status().is_success() => {}
                    Ok(r) => {
                        let status = r.status();
                        let body = r.text().await.unwrap_or_default();
                        refused.push(format!("PUT {id} to {url}: {status} {body}"));
                    }
                    Err(e) => refused.push(format!("PUT {id} to {url}: {e}")),
                }
            }
            refused
        }));
    }
    let mut refused = Vec::new();
    for task in tasks {
        refused.extend(task.await.expect("PUT task"));
    }
    refused
}

/// `csat_invite` messages the mock accepted, per recipient (digits).
fn invitations_by_recipient(mock: &MockCloud) -> HashMap<String, usize> {
    let mut by_recipient = HashMap::new();
    for message in mock.received() {
        if message.body["template"]["name"] == "csat_invite" {
            *by_recipient.entry(message.to).or_insert(0) += 1;
        }
    }
    by_recipient
}

/// Waits until every one of `recipients` got at least one invitation, or `timeout` passes.
async fn wait_for_invitations(mock: &MockCloud, recipients: &[String], timeout: Duration) {
    let deadline = Instant::now() + timeout;
    loop {
        let by_recipient = invitations_by_recipient(mock);
        if recipients.iter().all(|r| by_recipient.contains_key(r)) || Instant::now() > deadline {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The most messages that arrived at the mock within any one second.
fn busiest_second(times: &[Instant]) -> usize {
    let mut times = times.to_vec();
    times.sort();
    let mut worst = 0;
    for (i, start) in times.iter().enumerate() {
        let in_window = times[i..]
            .iter()
            .take_while(|t| t.duration_since(*start) < Duration::from_secs(1))
            .count();
        worst = worst.max(in_window);
    }
    worst
}

/// Waits until every event of the case is processed, asking `process`; answers its trace.
async fn settled(http: &reqwest::Client, process: &Process, case_id: &str) -> Value {
    eventually(Duration::from_secs(10), || async {
        let r = http
            .get(process.api(&format!("/cases/{case_id}/trace")))
            .send()
            .await
            .ok()?;
        if r.status() != 200 {
            return None;
        }
        let trace: Value = r.json().await.ok()?;
        let events = trace["events"].as_array()?;
        (!events.is_empty() && events.iter().all(|e| e["processed"] == json!(true)))
            .then_some(trace)
    })
    .await
    .unwrap_or_else(|| panic!("events of {case_id} were not processed in time"))
}

/// Every `trigger_survey_invitation` action of a trace.
fn invitation_actions(trace: &Value) -> Vec<Value> {
    let mut found = Vec::new();
    for event in trace["events"].as_array().into_iter().flatten() {
        for rule in event["rules"].as_array().into_iter().flatten() {
            for action in rule["actions"].as_array().into_iter().flatten() {
                if action["action"] == "trigger_survey_invitation" {
                    found.push(action.clone());
                }
            }
        }
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_cases_over_two_processes_give_exactly_one_invitation_each() {
    const CASES: usize = 1_000;
    let Some(server) = postgres_or_skip("a_thousand_cases_over_two_processes") else {
        return;
    };
    let _one = ONE_AT_A_TIME.lock().await;
    let started = Instant::now();
    let cluster = Cluster::start(
        &server,
        Options {
            messages_per_second: 100,
            ..Options::default()
        },
    )
    .await;

    let cases: Vec<(String, String)> = (0..CASES)
        .map(|i| (format!("C-{}", 20_000 + i), phone("3460000", i)))
        .collect();
    let recipients: Vec<String> = cases.iter().map(|(_, p)| digits(p)).collect();
    let refused = put_cases_alternating(&cluster.http, cluster.urls(), cases).await;
    assert!(
        refused.is_empty(),
        "{} of {CASES} PUTs were not answered 2xx, e.g. {:?}",
        refused.len(),
        &refused[..refused.len().min(5)]
    );
    let answered = started.elapsed();

    wait_for_invitations(&cluster.mock, &recipients, Duration::from_secs(60)).await;
    // A second copy (two processes sending one message) would follow the first closely:
    // give it time to show up before counting.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let by_recipient = invitations_by_recipient(&cluster.mock);

    let missing: Vec<_> = recipients
        .iter()
        .filter(|r| !by_recipient.contains_key(*r))
        .collect();
    let duplicated: Vec<_> = by_recipient.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        missing.is_empty(),
        "{} of {CASES} phones got no invitation, e.g. {:?}",
        missing.len(),
        &missing[..missing.len().min(5)]
    );
    assert!(
        duplicated.is_empty(),
        "{} phones got more than one invitation, e.g. {:?}",
        duplicated.len(),
        &duplicated[..duplicated.len().min(5)]
    );
    let total: usize = by_recipient.values().sum();
    assert_eq!(total, CASES, "exactly one invitation per case at the mock");
    assert_eq!(by_recipient.len(), CASES, "no invitation to another number");
    println!(
        "two processes: {CASES} PUTs answered in {:.1?}, {CASES} invitations after {:.1?}",
        answered,
        started.elapsed()
    );
    cluster.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_of_one_process_under_load_loses_nothing() {
    const CASES: usize = 300;
    let Some(server) = postgres_or_skip("kill_9_of_one_process_under_load") else {
        return;
    };
    let _one = ONE_AT_A_TIME.lock().await;
    // 50 a second: the 300 invitations take 6 s to send, so B is killed in the middle of it.
    let mut cluster = Cluster::start(
        &server,
        Options {
            messages_per_second: 50,
            ..Options::default()
        },
    )
    .await;

    let cases: Vec<(String, String)> = (0..CASES)
        .map(|i| (format!("C-{}", 30_000 + i), phone("3460001", i)))
        .collect();
    let recipients: Vec<String> = cases.iter().map(|(_, p)| digits(p)).collect();
    let refused = put_cases_alternating(&cluster.http, cluster.urls(), cases).await;
    assert!(
        refused.is_empty(),
        "{} of {CASES} PUTs were not answered 2xx, e.g. {:?}",
        refused.len(),
        &refused[..refused.len().min(5)]
    );
    // Every update is answered; kill B as soon as the sending is under way (the first
    // invitations are at the mock), so it dies with events and a batch of messages claimed
    // and sends in flight, not before its dispatcher has started (then it would hold little).
    let sending = cluster
        .mock
        .wait_for_messages(CASES / 10, Duration::from_secs(20))
        .await;
    cluster.b.kill();
    let killed_at = Instant::now();
    assert!(
        sending.len() >= CASES / 10,
        "the sending did not start within 20 s ({} invitations)",
        sending.len()
    );
    let sent_at_kill = cluster.mock.received().len();
    assert!(
        sent_at_kill < CASES,
        "B must be killed while invitations are still to be sent ({sent_at_kill} of {CASES} were sent)"
    );

    // B's claimed events and messages stay leased until their leases expire (30 s, plus a
    // batch's paced send time for messages); then A takes them over.
    wait_for_invitations(&cluster.mock, &recipients, Duration::from_secs(90)).await;
    let recovered_after = killed_at.elapsed();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let by_recipient = invitations_by_recipient(&cluster.mock);

    let missing: Vec<_> = recipients
        .iter()
        .filter(|r| !by_recipient.contains_key(*r))
        .collect();
    assert!(
        missing.is_empty(),
        "{} of {CASES} answered cases got no invitation within 90 s of the kill, e.g. {:?}",
        missing.len(),
        &missing[..missing.len().min(5)]
    );
    let last_arrival = cluster
        .mock
        .received()
        .iter()
        .map(|r| r.at)
        .max()
        .expect("messages");
    // Sent after the leases B held at the kill expired: B's claimed work, taken over by A.
    let taken_over = cluster
        .mock
        .received()
        .iter()
        .filter(|r| r.at.saturating_duration_since(killed_at) > Duration::from_secs(25))
        .count();
    let duplicated = by_recipient.values().filter(|n| **n > 1).count();
    let times: Vec<Instant> = cluster.mock.received().iter().map(|r| r.at).collect();
    let busiest = busiest_second(&times);
    let most = by_recipient.values().copied().max().unwrap_or(0);
    println!(
        "kill -9 of B: {sent_at_kill} of {CASES} invitations sent at the kill, all {CASES} after {recovered_after:.1?} \
         (last one {:.1?} after the kill; {taken_over} sent 25 s or more after it, once B's leases expired), \
         {duplicated} phones got a second copy; at most {busiest} messages in one second (limit 50)",
        last_arrival.saturating_duration_since(killed_at)
    );
    // SPEC §4.10: the only duplicate window is a message Meta accepted whose settle did not
    // commit (the process died between the send and the settle); its lease expires and A
    // sends it again. Those are at most the messages B had in flight: one claimed batch,
    // at most 64 per account. Each such message is sent at most twice.
    assert!(
        duplicated <= DISPATCH_BATCH,
        "{duplicated} phones got 2+ invitations: more than one dispatcher batch ({DISPATCH_BATCH}) was in flight at the kill"
    );
    assert!(most <= 2, "a phone got {most} invitations");
    cluster.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rate_limit_holds_for_two_processes_together() {
    const CASES: usize = 60;
    const PER_SECOND: usize = 20;
    let Some(server) = postgres_or_skip("the_rate_limit_holds_for_two_processes_together") else {
        return;
    };
    let _one = ONE_AT_A_TIME.lock().await;
    let cluster = Cluster::start(
        &server,
        Options {
            messages_per_second: PER_SECOND as u32,
            ..Options::default()
        },
    )
    .await;

    let cases: Vec<(String, String)> = (0..CASES)
        .map(|i| (format!("C-{}", 40_000 + i), phone("3460002", i)))
        .collect();
    let recipients: Vec<String> = cases.iter().map(|(_, p)| digits(p)).collect();
    let refused = put_cases_alternating(&cluster.http, cluster.urls(), cases).await;
    assert!(refused.is_empty(), "PUTs not answered 2xx: {refused:?}");

    wait_for_invitations(&cluster.mock, &recipients, Duration::from_secs(30)).await;
    let by_recipient = invitations_by_recipient(&cluster.mock);
    let received = cluster.mock.received();
    assert_eq!(
        by_recipient.len(),
        CASES,
        "all {CASES} invitations arrive ({} did)",
        by_recipient.len()
    );
    assert_eq!(received.len(), CASES, "one message per case");
    let times: Vec<Instant> = received.iter().map(|r| r.at).collect();
    let worst = busiest_second(&times);
    println!("two processes at {PER_SECOND}/s: at most {worst} messages in one second");
    assert!(
        worst <= PER_SECOND,
        "{worst} messages arrived within one second from the two processes together (limit {PER_SECOND})"
    );
    cluster.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_distribution_paused_through_one_process_stops_sends_from_the_other_within_5_s() {
    let Some(server) = postgres_or_skip("a_distribution_paused_through_one_process") else {
        return;
    };
    let _one = ONE_AT_A_TIME.lock().await;
    let cluster = Cluster::start(&server, Options::default()).await;
    let http = &cluster.http;

    // Before the pause B sends: the case below would get its invitation.
    let before = phone("3460003", 1);
    let answer = http
        .put(cluster.b.api("/cases/C-50001"))
        .json(&resolved_case("C-50001", &before))
        .send()
        .await
        .expect("PUT reaches B");
    assert!(
        answer.status().is_success(),
        "PUT to B: {}",
        answer.status()
    );
    let received = cluster
        .mock
        .wait_for_messages(1, Duration::from_secs(10))
        .await;
    assert!(
        received.iter().any(|r| r.to == digits(&before)),
        "B sends while the distribution is active"
    );

    let paused = http
        .patch(cluster.a.api("/distributions/csat-wa"))
        .json(&json!({"status": "paused"}))
        .send()
        .await
        .expect("PATCH reaches A");
    let status = paused.status();
    let body: Value = paused.json().await.unwrap_or(Value::Null);
    assert_eq!(status, 200, "PATCH on A: {body}");
    assert_eq!(body["status"], "paused", "{body}");

    // SPEC §7: in force on every process within a few seconds (B polls the revision every
    // second); 5 s is the bound this test holds it to.
    tokio::time::sleep(Duration::from_secs(5)).await;

    let after = phone("3460003", 2);
    let answer = http
        .put(cluster.b.api("/cases/C-50002"))
        .json(&resolved_case("C-50002", &after))
        .send()
        .await
        .expect("PUT reaches B");
    assert!(
        answer.status().is_success(),
        "PUT to B: {}",
        answer.status()
    );
    let trace = settled(http, &cluster.b, "C-50002").await;
    let actions = invitation_actions(&trace);
    assert_eq!(actions.len(), 1, "one invitation action: {trace}");
    assert_eq!(
        (
            actions[0]["outcome"].as_str(),
            actions[0]["reason"].as_str()
        ),
        (Some("skipped"), Some("distribution_not_active")),
        "5 s after the pause on A, a case put to B is still invited: {trace}"
    );

    // Nothing reaches the mock for that phone (give a queued message time to show up).
    tokio::time::sleep(Duration::from_secs(2)).await;
    let to_after = cluster
        .mock
        .received()
        .iter()
        .filter(|r| r.to == digits(&after))
        .count();
    assert_eq!(
        to_after, 0,
        "a message was sent for a case resolved after the pause"
    );

    // Either process may have evaluated that case (the event workers share the events), so
    // ask B itself too: its config in force has the distribution paused.
    let on_b: Value = http
        .get(cluster.b.api("/distributions/csat-wa"))
        .send()
        .await
        .expect("GET reaches B")
        .json()
        .await
        .unwrap_or(Value::Null);
    assert_eq!(
        on_b["status"], "paused",
        "B's view of the distribution: {on_b}"
    );
    cluster.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idempotency_key_and_quarantine_hold_whichever_process_takes_the_request() {
    let Some(server) = postgres_or_skip("an_idempotency_key_and_quarantine_hold") else {
        return;
    };
    let _one = ONE_AT_A_TIME.lock().await;
    let cluster = Cluster::start(
        &server,
        Options {
            quarantine: Some("30d"),
            ..Options::default()
        },
    )
    .await;
    let http = &cluster.http;

    // The same request with the same key, to A and to B at once: one change, one event,
    // and both answers say so.
    let put = |process: &Process, id: &str, phone: &str| {
        http.put(process.api(&format!("/cases/{id}")))
            .header("Idempotency-Key", "same-request-1")
            .json(&resolved_case(id, phone))
            .send()
    };
    let key_phone = phone("3460005", 1);
    let (from_a, from_b) = tokio::join!(
        put(&cluster.a, "C-60001", &key_phone),
        put(&cluster.b, "C-60001", &key_phone)
    );
    let (from_a, from_b) = (from_a.expect("A answers"), from_b.expect("B answers"));
    assert_eq!(
        from_a.status(),
        202,
        "the first answer is replayed, not redone"
    );
    assert_eq!(
        from_b.status(),
        202,
        "the first answer is replayed, not redone"
    );
    let replayed = [&from_a, &from_b]
        .iter()
        .filter(|r| r.headers().get("idempotent-replayed").is_some())
        .count();
    assert_eq!(replayed, 1, "exactly one of the two was a replay");
    let (a_body, b_body): (Value, Value) = (
        from_a.json().await.unwrap_or_default(),
        from_b.json().await.unwrap_or_default(),
    );
    assert_eq!(
        a_body["event_id"], b_body["event_id"],
        "one event: {a_body} {b_body}"
    );

    // Two cases of one number, one to each process at once, under a 30-day quarantine:
    // one invitation is sent, the other invite is quarantined.
    let shared = phone("3460005", 2);
    let (one, two) = tokio::join!(
        http.put(cluster.a.api("/cases/C-60002"))
            .json(&resolved_case("C-60002", &shared))
            .send(),
        http.put(cluster.b.api("/cases/C-60003"))
            .json(&resolved_case("C-60003", &shared))
            .send()
    );
    assert!(one.expect("A answers").status().is_success());
    assert!(two.expect("B answers").status().is_success());
    let statuses = eventually(Duration::from_secs(20), || async {
        let mut statuses = Vec::new();
        for id in ["C-60002", "C-60003"] {
            let (_, body) = get(http, &cluster.a.api(&format!("/invites?case_id={id}"))).await;
            let status = body["items"][0]["status"].as_str()?.to_string();
            if status == "pending" {
                return None;
            }
            statuses.push(status);
        }
        Some(statuses)
    })
    .await
    .expect("both invites were decided");
    assert!(
        statuses.contains(&"quarantined".to_string()),
        "one of the two is quarantined: {statuses:?}"
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    let sent = invitations_by_recipient(&cluster.mock)
        .get(&digits(&shared))
        .copied()
        .unwrap_or(0);
    assert_eq!(sent, 1, "the number got one invitation: {statuses:?}");
    cluster.finish().await;
}

async fn get(http: &reqwest::Client, url: &str) -> (u16, Value) {
    let response = http.get(url).send().await.expect("GET reaches the service");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn meta_webhooks_and_survey_pages_work_on_either_process() {
    let Some(server) = postgres_or_skip("meta_webhooks_and_survey_pages_work_on_either_process")
    else {
        return;
    };
    let _one = ONE_AT_A_TIME.lock().await;
    let cluster = Cluster::start(&server, Options::default()).await;
    let http = &cluster.http;
    // Behind a load balancer Meta's webhook reaches any process: here B takes the statuses
    // of a message A may have sent.
    cluster
        .mock
        .set_webhook_url(&format!("{}/webhooks/whatsapp", cluster.b.url));
    let number = phone("3460006", 1);
    let answer = http
        .put(cluster.a.api("/cases/C-70001"))
        .json(&resolved_case("C-70001", &number))
        .send()
        .await
        .expect("PUT reaches A");
    assert!(
        answer.status().is_success(),
        "PUT to A: {}",
        answer.status()
    );
    let invite = eventually(Duration::from_secs(20), || async {
        let (_, body) = get(http, &cluster.a.api("/invites?case_id=C-70001")).await;
        let invite = body["items"][0].clone();
        (invite["status"] == "opened").then_some(invite)
    })
    .await
    .expect("the statuses B took moved the invite to opened, as A sees it");

    // The survey link works on either process: answered on B, seen completed on A.
    let token = invite["link"]
        .as_str()
        .and_then(|l| l.rsplit('/').next())
        .expect("a survey link")
        .to_string();
    let submitted = http
        .post(format!("{}/s/{token}/answers", cluster.b.url))
        .json(&json!({"answers": {"score": 4}, "submit": true}))
        .send()
        .await
        .expect("answers reach B");
    assert_eq!(submitted.status(), 200);
    let (_, body) = get(http, &cluster.a.api("/invites?case_id=C-70001")).await;
    assert_eq!(body["items"][0]["response_status"], "completed", "{body}");
    cluster.finish().await;
}
