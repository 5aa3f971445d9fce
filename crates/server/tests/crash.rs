//! Durability (SPEC §4.10): `kill -9` right after 200 case updates were answered 2xx, then a
//! restart on the same database. Every update gets its invitation; a second copy can only
//! be a message that was in flight at the kill (accepted by Meta, not yet recorded).

mod common;

use std::collections::HashMap;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::*;

const CASES: usize = 200;
/// The least time a dispatcher's lease outlives its batch (`LEASE_SLACK_MS` in the
/// dispatcher).
const LEASE_SLACK_SECS: u64 = 30;

fn serve(config: &Path, database: &str, port: u16) -> Child {
    serve_command(config, database, port)
        .stderr(Stdio::inherit())
        .spawn()
        .expect("closeloop serve starts")
}

async fn wait_ready(http: &reqwest::Client, url: &str) {
    let ready = eventually(Duration::from_secs(20), || async {
        let r = http.get(format!("{url}/readyz")).send().await.ok()?;
        (r.status() == 200).then_some(())
    })
    .await;
    assert!(ready.is_some(), "service at {url} did not become ready");
}

/// The case number a received invitation is for (its second body parameter).
fn case_number(body: &serde_json::Value) -> String {
    body["template"]["components"][0]["parameters"][1]["text"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn kill_9_after_answered_updates_loses_nothing_and_duplicates_only_in_flight_messages() {
    let mock = start_mock().await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("closeloop.yaml");
    std::fs::write(&config, config_yaml(&mock.api_base(), &Options::default())).unwrap();
    let test_database = TestDatabase::fresh().await;
    let database = test_database.url().to_owned();
    let http = reqwest::Client::new();

    let port = free_port();
    let mut child = serve(&config, &database, port);
    let url = format!("http://127.0.0.1:{port}");
    wait_ready(&http, &url).await;
    mock.set_webhook_url(&format!("{url}/webhooks/whatsapp"));

    let mut tasks = Vec::new();
    for worker in 0..8 {
        let http = http.clone();
        let url = url.clone();
        tasks.push(tokio::spawn(async move {
            let mut answered = 0;
            for i in (worker..CASES).step_by(8) {
                let case = resolved_case(&format!("C-{}", 10_000 + i), &format!("+346001{:05}", i));
                let r = http
                    .put(format!("{url}/api/v1/cases/C-{}", 10_000 + i))
                    .json(&case)
                    .send()
                    .await;
                if r.is_ok_and(|r| r.status().as_u16() == 202) {
                    answered += 1;
                }
            }
            answered
        }));
    }
    let mut answered = 0;
    for t in tasks {
        answered += t.await.unwrap();
    }
    child.kill().expect("SIGKILL");
    let _ = child.wait();
    // The mock runs on this test's thread: requests the service wrote before it died are
    // stamped when the mock gets to them. Let it, so every copy sent before the kill is
    // stamped before `killed_at`; nothing can be sent between here and the restart.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let killed_at = Instant::now();
    assert_eq!(
        answered, CASES,
        "every update was answered 202 before the kill"
    );
    let before_restart = mock.received().len();

    let port = free_port();
    let mut child = serve(&config, &database, port);
    let url = format!("http://127.0.0.1:{port}");
    wait_ready(&http, &url).await;
    mock.set_webhook_url(&format!("{url}/webhooks/whatsapp"));

    let restarted_at = Instant::now();
    let deadline = restarted_at + Duration::from_secs(120);
    let mut by_case: HashMap<String, Vec<Instant>> = HashMap::new();
    while Instant::now() < deadline {
        by_case.clear();
        for r in mock.received() {
            by_case.entry(case_number(&r.body)).or_default().push(r.at);
        }
        if by_case.len() >= CASES {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let caught_up_after = restarted_at.elapsed();
    let _ = child.kill();
    let _ = child.wait();

    assert_eq!(
        by_case.len(),
        CASES,
        "every answered update got its invitation"
    );
    let duplicated: Vec<_> = by_case.iter().filter(|(_, at)| at.len() > 1).collect();
    for (case, arrivals) in &duplicated {
        assert_eq!(
            arrivals.len(),
            2,
            "case {case} got more than two invitations"
        );
        assert!(
            arrivals[0] < killed_at,
            "case {case}: its first copy was not in flight at the kill"
        );
    }
    // One process serves a SQLite file, so the restarted one takes back the dead one's
    // leases at once instead of waiting for them to expire (30 s and more).
    if database.starts_with("sqlite") {
        assert!(
            caught_up_after < Duration::from_secs(LEASE_SLACK_SECS / 2),
            "the invitations the dead process held were sent {caught_up_after:?} after the restart"
        );
    }
    println!(
        "crash test: {CASES} updates answered, {before_restart} invitations before the kill, {} duplicated (in flight at the kill), all sent {caught_up_after:?} after the restart",
        duplicated.len()
    );
}
