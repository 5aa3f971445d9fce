//! Queue rules end, and runs that do nothing leave nothing behind (SPEC §4.17): a scheduled
//! run that matches nothing and changes nothing is counted on the schedule, not stored as
//! an event; a case leaves a queue rule after `for`; a status the invite already has
//! writes nothing.

mod common;

use std::time::Duration;

use common::*;
use serde_json::{json, Value};

/// The reminder rule of the source document's setup, on a 1-second period.
const REMIND_EVERY_SECOND: &str = r#"
  - id: remind
    on: { queue: survey-sent, every: 1s }
    when:
      all:
        - survey.response_status: { survey: csat, channel: whatsapp, distribution: csat-wa, not_in: [completed] }
        - survey.last_sent_before: { survey: csat, channel: whatsapp, distribution: csat-wa, duration: 1h }
    then:
      - send_survey_reminder: { survey: csat, channel: whatsapp, distribution: csat-wa }
"#;

/// A queue rule that tags each case once, for a minute of the service's clock.
const TAG_FOR_A_MINUTE: &str = r#"
  - id: tag-while-waiting
    on: { queue: survey-sent, every: 1s, for: 60s }
    then:
      - add_tag: waited
"#;

fn scheduled_events(trace: &Value) -> usize {
    trace["events"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["kind"] == "scheduled")
        .count()
}

async fn trace_of(app: &TestApp, case_id: &str) -> Value {
    app.get_json(&format!("/cases/{case_id}/trace")).await.1
}

#[tokio::test]
async fn runs_over_a_completed_survey_store_no_event_and_the_trace_counts_them() {
    let app = spawn_app_with(Options {
        extra_rules: REMIND_EVERY_SECOND,
        ..Options::default()
    })
    .await;
    app.put_case(&resolved_case("C-9101", "+34600910101")).await;
    app.invite_reaches("C-9101", "sent").await;
    let token = app.token_of("C-9101").await;
    let (status, _) = app.answer(&token, json!({"score": 5}), true).await;
    assert_eq!(status, 200);
    app.response_reaches("C-9101", "completed").await;
    app.settled("C-9101").await;
    let before = scheduled_events(&trace_of(&app, "C-9101").await);

    // Ten seconds of runs every second over a completed survey.
    let trace = eventually(Duration::from_secs(20), || async {
        let trace = trace_of(&app, "C-9101").await;
        (trace["skipped_runs"].as_i64().unwrap_or(0) >= 10).then_some(trace)
    })
    .await
    .expect("the runs are counted on the schedule");
    assert_eq!(
        scheduled_events(&trace),
        before,
        "no scheduled event was stored for runs that did nothing: {trace}"
    );
    let schedule = &trace["schedules"][0];
    assert_eq!(schedule["rule"], "remind");
    assert_eq!(schedule["last_outcome"], "not_matched");
    // The CLI calls this test's service: run it off the test's runtime.
    let url = app.url.clone();
    let explained = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_closeloop"))
            .args(["explain", "C-9101", "--server", &url])
            .output()
    })
    .await
    .expect("explain finishes")
    .expect("explain runs");
    let text = String::from_utf8_lossy(&explained.stdout);
    assert!(
        text.contains("queue rule remind:")
            && text.contains("did nothing since its last stored run"),
        "{text}"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_case_in_the_queue_longer_than_for_is_no_longer_evaluated() {
    // 20× clock: the rule's minute passes in three seconds.
    let app = spawn_app_with(Options {
        extra_rules: TAG_FOR_A_MINUTE,
        clock_speed: 20.0,
        ..Options::default()
    })
    .await;
    app.put_case(&resolved_case("C-9201", "+34600920101")).await;
    let tagged = eventually(Duration::from_secs(15), || async {
        let (_, case) = app.get_json("/cases/C-9201").await;
        let tags = case["case"]["tags"].as_array().cloned().unwrap_or_default();
        tags.contains(&json!("waited")).then_some(case)
    })
    .await;
    let tagged = match tagged {
        Some(case) => case,
        None => panic!(
            "the queue rule did not run on the case: {}",
            trace_of(&app, "C-9201").await
        ),
    };
    assert_eq!(tagged["queue"], "survey-sent");

    let ended = eventually(Duration::from_secs(15), || async {
        let trace = trace_of(&app, "C-9201").await;
        trace["schedules"]
            .as_array()
            .is_some_and(|s| s.is_empty())
            .then_some(trace)
    })
    .await
    .expect("the case left the rule's schedule after `for`");
    let runs = scheduled_events(&ended);
    assert_eq!(
        runs, 1,
        "one run acted (the tag), the rest did nothing: {ended}"
    );

    let (_, case) = app.get_json("/cases/C-9201").await;
    assert_eq!(
        case["queue"], "survey-sent",
        "the case is still in the queue"
    );
    // Another minute of the service's clock: nothing runs on the case any more.
    let more = eventually(Duration::from_secs(3), || async {
        let trace = trace_of(&app, "C-9201").await;
        (trace["schedules"].as_array().is_some_and(|s| !s.is_empty())
            || scheduled_events(&trace) != runs)
            .then_some(trace)
    })
    .await;
    assert!(more.is_none(), "the rule ran again after `for`: {more:?}");
    app.stop().await;
}

#[tokio::test]
async fn a_duplicate_delivered_webhook_writes_no_event() {
    let app = spawn_app().await;
    app.mock.set_auto_statuses(false);
    app.put_case(&resolved_case("C-9301", "+34600930101")).await;
    let received = app.mock.wait_for_messages(1, Duration::from_secs(10)).await;
    let wamid = received[0].wamid.clone();
    app.invite_reaches("C-9301", "sent").await;
    assert_eq!(app.mock.send_status(&wamid, "delivered", vec![]).await, 200);
    app.invite_reaches("C-9301", "delivered").await;
    let first = app.settled("C-9301").await;
    let events = first["events"].as_array().map_or(0, Vec::len);

    for _ in 0..3 {
        assert_eq!(app.mock.send_status(&wamid, "delivered", vec![]).await, 200);
    }
    assert_eq!(app.mock.send_status(&wamid, "sent", vec![]).await, 200);
    let after = app.settled("C-9301").await;
    assert_eq!(
        after["events"].as_array().map_or(0, Vec::len),
        events,
        "statuses the invite already had wrote no event: {after}"
    );
    app.stop().await;
}

#[tokio::test]
async fn finished_events_past_their_retention_are_removed_and_invites_are_kept() {
    // 20× clock: 10 seconds of retention pass in half a second.
    let app = spawn_app_with(Options {
        edit: Some(|text| format!("retention: {{ events: 10s }}\n{text}")),
        clock_speed: 20.0,
        ..Options::default()
    })
    .await;
    app.put_case(&resolved_case("C-9401", "+34600940101")).await;
    app.invite_reaches("C-9401", "sent").await;
    let pruned = eventually(Duration::from_secs(20), || async {
        let trace = trace_of(&app, "C-9401").await;
        trace["events"]
            .as_array()
            .is_some_and(|e| e.is_empty())
            .then_some(trace)
    })
    .await;
    assert!(pruned.is_some(), "the case's finished events were removed");
    let invites = app.invites_of("C-9401").await;
    assert_eq!(invites.len(), 1, "the invite is kept");
    let (status, case) = app.get_json("/cases/C-9401").await;
    assert_eq!(status, 200, "the case is kept: {case}");
    app.stop().await;
}
