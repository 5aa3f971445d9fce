//! Nothing accepted is dropped on the way to Meta (SPEC §4.12, §4.19): the pair rate limit
//! (131056) only delays a message, for as long as its survey link is valid, and a number
//! suppressed between an invite's creation and its send is not sent to.

mod common;

use std::time::Duration;

use closeloop_wamock::Failure;
use common::*;
use serde_json::json;

fn pair_rate_limited() -> Failure {
    Failure::graph(
        400,
        131056,
        "(Business Account, Consumer Account) pair rate limit hit",
    )
}

/// The invitation's messages as the invites API shows them.
async fn invitation_of(app: &TestApp, case: &str) -> serde_json::Value {
    app.invites_of(case).await[0]["messages"][0].clone()
}

#[tokio::test]
async fn a_message_hitting_the_pair_rate_limit_more_times_than_the_retry_budget_is_still_sent() {
    // 600×: the ≥ 6 s waits of the pair rate limit and the backoff pass in milliseconds.
    let app = spawn_app_with(Options {
        clock_speed: 600.0,
        ..Options::default()
    })
    .await;
    // Twice the eight attempts any other retryable error gets.
    for _ in 0..16 {
        app.mock.fail_next(pair_rate_limited());
    }
    app.put_case(&resolved_case("C-1", "+34600111222")).await;
    let sent = eventually(Duration::from_secs(60), || async {
        let invite = app.invites_of("C-1").await.into_iter().next()?;
        assert_ne!(
            invite["status"], "failed",
            "never failed for 131056: {invite}"
        );
        (invite["status"] == "sent"
            || invite["status"] == "delivered"
            || invite["status"] == "opened")
            .then_some(invite)
    })
    .await
    .expect("the invitation goes out once the pair rate limit lets it");
    let message = &sent["messages"][0];
    assert_eq!(message["attempts"], 17, "{message}");
    assert_eq!(app.mock.received().len(), 1);
    app.stop().await;
}

#[tokio::test]
async fn a_message_held_by_the_pair_rate_limit_gives_up_only_when_its_link_expires() {
    let app = spawn_app_with(Options {
        clock_speed: 600.0,
        // An hour of link: six real seconds at 600×, a dozen attempts.
        distribution: "link: { expires_after: 1h }",
        ..Options::default()
    })
    .await;
    for _ in 0..10_000 {
        app.mock.fail_next(pair_rate_limited());
    }
    app.put_case(&resolved_case("C-1", "+34600111222")).await;
    let failed = eventually(Duration::from_secs(60), || async {
        let invite = app.invites_of("C-1").await.into_iter().next()?;
        (invite["status"] == "failed").then_some(invite)
    })
    .await;
    let invite = failed.expect("the invitation gives up once its link has expired");
    let message = invitation_of(&app, "C-1").await;
    assert_eq!(message["error"]["code"], 131056, "{message}");
    let title = message["error"]["title"].as_str().unwrap_or_default();
    assert!(title.contains("link expired"), "{message}");
    let attempts = message["attempts"].as_i64().unwrap_or_default();
    assert!(attempts > 1, "it waited and retried first: {invite}");
    app.stop().await;
}

#[tokio::test]
async fn a_number_suppressed_before_its_invitation_goes_out_ends_the_invite_suppressed() {
    let app = spawn_app().await;
    // The first attempt fails, so the invitation waits about a second for its retry.
    app.mock.fail_next(Failure::server_error());
    app.put_case(&resolved_case("C-1", "+34600111003")).await;
    let waiting = eventually(Duration::from_secs(10), || async {
        let message = app.invites_of("C-1").await.into_iter().next()?["messages"][0].clone();
        (message["attempts"] == 1 && message["error"].is_object()).then_some(())
    })
    .await;
    assert!(
        waiting.is_some(),
        "the first attempt failed and a retry waits"
    );
    let response = app
        .http
        .post(app.api("/suppressions"))
        .json(&json!({"phone": "+34600111003", "reason": "asked by phone"}))
        .send()
        .await
        .expect("POST reaches the service");
    assert_eq!(response.status().as_u16(), 201);
    let invite = app.invite_reaches("C-1", "suppressed").await;
    assert_eq!(invite["reason"], "suppressed", "{invite}");
    let message = &invite["messages"][0];
    assert_eq!(message["status"], "failed", "{invite}");
    assert_eq!(
        message["error"]["title"], "recipient is suppressed; not sent",
        "{invite}"
    );
    assert!(
        app.mock.received().is_empty(),
        "nothing reached the suppressed number"
    );
    app.stop().await;
}

/// The case number a received invitation is for (its second body parameter).
fn case_number(body: &serde_json::Value) -> String {
    body["template"]["components"][0]["parameters"][1]["text"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// The most send attempts that arrived within any one second.
fn busiest_second(mut times: Vec<std::time::Instant>) -> usize {
    times.sort();
    let mut busiest = 0;
    let mut start = 0;
    for end in 0..times.len() {
        while times[end].duration_since(times[start]) >= Duration::from_secs(1) {
            start += 1;
        }
        busiest = busiest.max(end - start + 1);
    }
    busiest
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fault_storm_delivers_every_invitation_within_the_rate_and_duplicates_only_lost_answers()
{
    const INVITATIONS: usize = 1_000;
    const RATE: u32 = 200;
    let app = spawn_app_with(Options {
        messages_per_second: RATE,
        ..Options::default()
    })
    .await;
    app.mock.set_fault_storm(Some(closeloop_wamock::FaultStorm {
        rate: 0.3,
        hang: Duration::from_secs(2),
        // Within the eight attempts the retry policy allows for transient errors.
        max_in_a_row: 3,
        seed: 2026,
    }));
    let mut puts = Vec::new();
    for worker in 0..8 {
        let http = app.http.clone();
        let url = app.api("/cases");
        puts.push(tokio::spawn(async move {
            for i in (worker..INVITATIONS).step_by(8) {
                let id = format!("C-{}", 10_000 + i);
                let case = resolved_case(&id, &format!("+346001{i:05}"));
                let response = http
                    .put(format!("{url}/{id}"))
                    .json(&case)
                    .send()
                    .await
                    .expect("PUT reaches the service");
                assert_eq!(response.status().as_u16(), 202);
            }
        }));
    }
    for put in puts {
        put.await.expect("the PUTs ran");
    }
    let everything = eventually(Duration::from_secs(240), || async {
        let received = app.mock.received();
        let cases: std::collections::HashSet<String> =
            received.iter().map(|r| case_number(&r.body)).collect();
        (cases.len() >= INVITATIONS).then_some(received)
    })
    .await;
    let received = everything.expect("every invitation is eventually accepted");
    let attempts = app.mock.attempts();

    let mut copies: std::collections::HashMap<String, Vec<bool>> = Default::default();
    for r in &received {
        copies
            .entry(case_number(&r.body))
            .or_default()
            .push(r.answer_lost);
    }
    let duplicated = copies.values().filter(|c| c.len() > 1).count();
    for (case, lost) in &copies {
        // Every copy but the last went out while its sender got no answer: the one window
        // where a second copy is allowed (SPEC §4.10).
        assert!(
            lost[..lost.len() - 1].iter().all(|l| *l),
            "case {case} was sent again after an answered send: {lost:?}"
        );
    }
    let busiest = busiest_second(app.mock.attempt_times());
    assert!(
        busiest <= RATE as usize,
        "{busiest} sends arrived within one second; the account allows {RATE}"
    );
    let failed = eventually(Duration::from_secs(30), || async {
        let (_, body) = app.get_json("/invites?status=pending&limit=1").await;
        body["items"].as_array()?.is_empty().then_some(())
    })
    .await;
    assert!(failed.is_some(), "no invite is left pending");
    let (_, failed) = app.get_json("/invites?status=failed&limit=10").await;
    assert_eq!(failed["items"], json!([]), "no invite failed: {failed}");
    println!(
        "fault storm: {INVITATIONS} invitations, {attempts} send attempts, {} accepted copies, \
         {duplicated} duplicated after a lost answer, busiest second {busiest}/{RATE}",
        received.len()
    );
    app.stop().await;
}
