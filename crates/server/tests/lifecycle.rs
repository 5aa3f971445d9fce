//! The survey lifecycle of the source document's "Recommended setup": invitation → queue →
//! reminders → answers → thank-you, with opt-out, expiry and the closed loop.

mod common;

use std::time::Duration;

use closeloop_wamock::Failure;
use common::*;
use serde_json::json;

const THANK: &str = r#"
  - id: thank
    on: case_update
    when:
      - survey.response_status: { survey: csat, channel: whatsapp, distribution: csat-wa, in: [completed] }
    then:
      - send_thank_you_message: { survey: csat, channel: whatsapp, distribution: csat-wa }
"#;

const THANK_AND_REMIND: &str = r#"
  - id: thank
    on: case_update
    when:
      - survey.response_status: { survey: csat, channel: whatsapp, distribution: csat-wa, in: [completed] }
    then:
      - send_thank_you_message: { survey: csat, channel: whatsapp, distribution: csat-wa }
  - id: remind
    on: { queue: survey-sent, every: 1s }
    when:
      all:
        - survey.invite_status: { survey: csat, channel: whatsapp, distribution: csat-wa, not_in: [failed, quarantined, suppressed, unsubscribed] }
        - survey.response_status: { survey: csat, channel: whatsapp, distribution: csat-wa, not_in: [completed] }
        - survey.last_sent_before: { survey: csat, channel: whatsapp, distribution: csat-wa, duration: 3s }
    then:
      - send_survey_reminder: { survey: csat, channel: whatsapp, distribution: csat-wa }
"#;

const RECOVERY: &str = r#"
  - id: recover
    on: case_update
    when:
      all:
        - survey.response_status: { survey: csat, channel: whatsapp, distribution: csat-wa, in: [completed] }
        - survey.answer: { survey: csat, channel: whatsapp, distribution: csat-wa, question: score, lte: 2 }
    then:
      - move_to_queue: recovery
"#;

const ALL_IN_ONE: &str = r#"
  - id: everything-at-once
    on: case_update
    when:
      - case.status: { changed_to: Closed }
    then:
      - send_thank_you_message: { survey: csat, channel: whatsapp, distribution: csat-wa }
      - send_survey_reminder: { survey: csat, channel: whatsapp, distribution: csat-wa }
      - trigger_survey_invitation: { survey: csat, channel: whatsapp, distribution: csat-wa }
"#;

#[tokio::test]
async fn answers_then_submit_complete_the_survey_and_send_one_thank_you() {
    let app = spawn_app_with(Options {
        extra_rules: THANK,
        ..Options::default()
    })
    .await;
    app.put_case(&resolved_case("C-1", "+34600111222")).await;
    app.invite_reaches("C-1", "opened").await;
    let token = app.token_of("C-1").await;

    let (status, body) = app.answer(&token, json!({"comment": "quick"}), false).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["response_status"], "in_progress");
    let (status, body) = app.answer(&token, json!({"score": 9}), false).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["path"], "answers.score");
    let (status, body) = app.answer(&token, json!({}), true).await;
    assert_eq!(status, 422, "the required score is missing: {body}");
    assert_eq!(body["errors"][0]["question"], "score");

    let (status, body) = app.answer(&token, json!({"score": 5}), true).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["response_status"], "completed");
    assert_eq!(body["answers"], json!({"comment": "quick", "score": 5}));

    let thanked = eventually(Duration::from_secs(10), || async {
        (app.messages_to("34600111222", "csat_thanks") == 1).then_some(())
    })
    .await;
    assert!(thanked.is_some(), "exactly one thank-you");
    let thanks = app
        .mock
        .received()
        .into_iter()
        .find(|r| r.body["template"]["name"] == "csat_thanks")
        .unwrap();
    assert_eq!(
        thanks.body["template"]["language"]["code"], "es",
        "the thank-you uses the invite's language"
    );

    let (status, body) = app.answer(&token, json!({"score": 1}), true).await;
    assert_eq!(status, 409, "a second submit is refused: {body}");
    assert_eq!(body["error"]["code"], "already_completed");
    let page = app
        .http
        .get(format!("{}/s/{token}", app.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("¡Gracias!"),
        "in the invite's language: {page}"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        app.messages_to("34600111222", "csat_thanks"),
        1,
        "still one thank-you"
    );
    app.stop().await;
}

#[tokio::test]
async fn an_idle_half_answered_survey_becomes_partially_completed_without_any_request() {
    let app = spawn_app_with(Options {
        distribution: "partial_after: 2s",
        ..Options::default()
    })
    .await;
    app.put_case(&resolved_case("C-2", "+34600111222")).await;
    app.invite_reaches("C-2", "opened").await;
    let token = app.token_of("C-2").await;
    let (status, _) = app.answer(&token, json!({"score": 3}), false).await;
    assert_eq!(status, 200);
    app.response_reaches("C-2", "in_progress").await;
    app.response_reaches("C-2", "partially_completed").await;
    let trace = app.settled("C-2").await;
    let last = trace["events"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["kind"], "survey_updated");
    assert_eq!(last["changed"], json!(["survey.response_status"]));
    app.stop().await;
}

#[tokio::test]
async fn reminders_follow_the_invitation_stop_at_max_and_skip_completed_surveys() {
    let app = spawn_app_with(Options {
        distribution: "max_reminders: 2",
        extra_rules: THANK_AND_REMIND,
        ..Options::default()
    })
    .await;
    app.put_case(&resolved_case("C-3", "+34600111222")).await;
    app.put_case(&resolved_case("C-4", "+34600111333")).await;
    app.invite_reaches("C-4", "opened").await;
    let token = app.token_of("C-4").await;
    assert_eq!(app.answer(&token, json!({"score": 4}), true).await.0, 200);

    let reminded = eventually(Duration::from_secs(20), || async {
        (app.messages_to("34600111222", "csat_reminder") >= 2).then_some(())
    })
    .await;
    assert!(
        reminded.is_some(),
        "two reminders for the unanswered survey"
    );
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(
        app.messages_to("34600111222", "csat_reminder"),
        2,
        "never more than max_reminders"
    );
    assert_eq!(
        app.messages_to("34600111333", "csat_reminder"),
        0,
        "no reminder after completion"
    );

    let to_c3: Vec<String> = app
        .mock
        .received()
        .iter()
        .filter(|r| r.to == "34600111222")
        .map(|r| r.body["template"]["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        to_c3,
        ["csat_invite", "csat_reminder", "csat_reminder"],
        "reminders come after the invitation"
    );
    let invite = &app.invites_of("C-3").await[0];
    assert_eq!(invite["reminders_sent"], 2);
    assert_eq!(invite["language"], "es");
    let reminder = app
        .mock
        .received()
        .into_iter()
        .find(|r| r.body["template"]["name"] == "csat_reminder")
        .unwrap();
    assert_eq!(reminder.body["template"]["language"]["code"], "es");
    app.stop().await;
}

#[tokio::test]
async fn stop_suppresses_the_number_and_nothing_more_is_sent() {
    let app = spawn_app_with(Options {
        extra_rules: THANK_AND_REMIND,
        ..Options::default()
    })
    .await;
    app.put_case(&resolved_case("C-5", "+34600111222")).await;
    app.invite_reaches("C-5", "opened").await;
    assert_eq!(
        app.mock
            .send_inbound_text(PHONE_NUMBER_ID, "34600111222", " Stop ")
            .await,
        200
    );
    app.invite_reaches("C-5", "unsubscribed").await;
    let (_, suppressions) = app.get_json("/suppressions").await;
    assert_eq!(suppressions["items"][0]["phone"], "+34600111222");
    assert_eq!(suppressions["items"][0]["reason"], "opt_out");

    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(
        app.messages_to("34600111222", "csat_reminder"),
        0,
        "no reminder after STOP"
    );
    app.put_case(&resolved_case("C-6", "+34600111222")).await;
    let invite = app.invite_reaches("C-6", "suppressed").await;
    assert_eq!(invite["reason"], "suppressed");
    assert_eq!(
        app.mock.received().len(),
        1,
        "only the first invitation was ever sent"
    );
    app.stop().await;
}

#[tokio::test]
async fn the_unsubscribe_link_asks_first_then_suppresses() {
    let app = spawn_app().await;
    app.put_case(&resolved_case("C-7", "+34600111222")).await;
    app.invite_reaches("C-7", "opened").await;
    let token = app.token_of("C-7").await;
    let confirm = app
        .http
        .get(format!("{}/s/{token}/unsubscribe", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(confirm.status(), 200);
    assert!(confirm
        .text()
        .await
        .unwrap()
        .contains("<form method=\"post\">"));
    let (_, before) = app.get_json("/suppressions").await;
    assert_eq!(
        before["items"],
        json!([]),
        "viewing the page does not opt out"
    );
    let done = app
        .http
        .post(format!("{}/s/{token}/unsubscribe", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), 200);
    app.invite_reaches("C-7", "unsubscribed").await;
    app.stop().await;
}

#[tokio::test]
async fn a_low_score_moves_the_case_to_recovery() {
    let app = spawn_app_with(Options {
        extra_rules: RECOVERY,
        ..Options::default()
    })
    .await;
    app.put_case(&resolved_case("C-8", "+34600111222")).await;
    app.invite_reaches("C-8", "opened").await;
    let token = app.token_of("C-8").await;
    assert_eq!(app.answer(&token, json!({"score": 1}), true).await.0, 200);
    let moved = eventually(Duration::from_secs(10), || async {
        let (_, case) = app.get_json("/cases/C-8").await;
        (case["queue"] == "recovery").then_some(case)
    })
    .await;
    assert!(moved.is_some(), "the case moved to the recovery queue");
    let trace = app.settled("C-8").await;
    let applied = trace["events"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|e| e["rules"].as_array().unwrap().iter())
        .any(|r| {
            r["rule"] == "recover"
                && r["matched"] == true
                && r["actions"][0]["outcome"] == "applied"
        });
    assert!(applied, "the trace shows the recovery rule applied");
    app.stop().await;
}

#[tokio::test]
async fn expired_unknown_and_invalid_answers_are_refused_clearly() {
    let app = spawn_app_with(Options {
        distribution: "link: { expires_after: 2s }",
        ..Options::default()
    })
    .await;
    app.put_case(&resolved_case("C-9", "+34600111222")).await;
    app.invite_reaches("C-9", "opened").await;
    let token = app.token_of("C-9").await;

    let form = app
        .http
        .post(format!("{}/s/{token}", app.url))
        .form(&[("score", "9"), ("_action", "submit")])
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), 422);
    let html = form.text().await.unwrap();
    assert!(
        html.contains("Elija un número del 1 al 5."),
        "the page names the problem next to the question: {html}"
    );
    assert!(html.contains("err-score"));

    let saved = app
        .http
        .post(format!("{}/s/{token}", app.url))
        .form(&[("score", "4"), ("_action", "save")])
        .send()
        .await
        .unwrap();
    assert_eq!(saved.status(), 200);
    assert!(
        saved.text().await.unwrap().contains("value=\"4\" checked"),
        "the saved answer is shown again"
    );

    tokio::time::sleep(Duration::from_millis(2500)).await;
    let expired = app
        .http
        .get(format!("{}/s/{token}", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(expired.status(), 410);
    let (status, body) = app.answer(&token, json!({"score": 5}), true).await;
    assert_eq!(
        status, 410,
        "an answer to an expired link is refused like the page: {body}"
    );
    assert_eq!(body["error"]["code"], "link_expired");
    app.response_reaches("C-9", "partially_completed").await;
    let unknown = app
        .http
        .get(format!("{}/s/0123456789abcdef0123456789abcdef", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    app.stop().await;
}

#[tokio::test]
async fn survey_actions_in_one_rule_never_send_a_reminder_before_its_invitation() {
    let app = spawn_app_with(Options {
        extra_rules: ALL_IN_ONE,
        ..Options::default()
    })
    .await;
    let mut case = resolved_case("C-10", "+34600111222");
    case["status"] = json!("Closed");
    app.put_case(&case).await;
    app.invite_reaches("C-10", "opened").await;
    let trace = app.settled("C-10").await;
    let actions: Vec<(String, String, String)> = trace["events"][0]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["rule"] == "everything-at-once")
        .unwrap()["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["action"].as_str().unwrap().to_string(),
                a["outcome"].as_str().unwrap().to_string(),
                a["reason"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    assert_eq!(
        actions[0].0, "trigger_survey_invitation",
        "the invitation runs first: {actions:?}"
    );
    assert_eq!(
        actions[1],
        (
            "send_survey_reminder".into(),
            "skipped".into(),
            "invitation_not_accepted_yet".into()
        )
    );
    assert_eq!(
        actions[2],
        (
            "send_thank_you_message".into(),
            "skipped".into(),
            "no_response".into()
        )
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    let names: Vec<String> = app
        .mock
        .received()
        .iter()
        .map(|r| r.body["template"]["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["csat_invite"]);
    app.stop().await;
}

/// SPEC §4.15: Meta's 131050 (the user stopped marketing messages) on a reminder, not only
/// on the invitation, ends the invite as `unsubscribed` and suppresses the number for that
/// account; no further reminder goes out.
#[tokio::test]
async fn a_marketing_opt_out_on_a_reminder_unsubscribes_the_invite() {
    let app = spawn_app_with(Options {
        distribution: "max_reminders: 3",
        extra_rules: THANK_AND_REMIND,
        ..Options::default()
    })
    .await;
    app.put_case(&resolved_case("C-50", "+34600111222")).await;
    app.invite_reaches("C-50", "opened").await;
    app.mock.fail_next(Failure::graph(
        400,
        131050,
        "Unable to deliver message. User has stopped marketing messages.",
    ));
    app.invite_reaches("C-50", "unsubscribed").await;
    let (_, suppressions) = app.get_json("/suppressions").await;
    assert_eq!(suppressions["items"][0]["phone"], "+34600111222");
    assert_eq!(suppressions["items"][0]["reason"], "marketing_opt_out");
    tokio::time::sleep(Duration::from_secs(5)).await;
    let sent: Vec<String> = app
        .mock
        .received()
        .iter()
        .filter(|r| r.to == "34600111222")
        .map(|r| {
            r.body["template"]["name"]
                .as_str()
                .unwrap_or("")
                .to_string()
        })
        .collect();
    assert_eq!(
        sent,
        ["csat_invite"],
        "nothing is accepted after the opt-out"
    );
    app.stop().await;
}

/// The invitation's template and media header replaced, for the header media test.
fn invitation_with_header(config: String, template: &str, header: &str) -> String {
    config.replacen(
        "        template: csat_invite\n",
        &format!("        template: {template}\n        {header}\n"),
        1,
    )
}

#[tokio::test]
async fn each_media_header_reaches_the_mock_in_metas_wire_format_and_is_accepted() {
    fn image(config: String) -> String {
        invitation_with_header(
            config,
            "csat_image",
            "header_image: https://cdn.example.com/logo.png",
        )
    }
    fn video(config: String) -> String {
        invitation_with_header(
            config,
            "csat_video",
            "header_video: https://cdn.example.com/hello.mp4",
        )
    }
    fn document(config: String) -> String {
        invitation_with_header(
            config,
            "csat_document",
            "header_document: { link: \"https://cdn.example.com/case.pdf\", filename: case.pdf }",
        )
    }
    type ConfigEdit = fn(String) -> String;
    let cases: [(ConfigEdit, serde_json::Value); 3] = [
        (
            image,
            json!({"type": "image", "image": {"link": "https://cdn.example.com/logo.png"}}),
        ),
        (
            video,
            json!({"type": "video", "video": {"link": "https://cdn.example.com/hello.mp4"}}),
        ),
        (
            document,
            json!({"type": "document", "document": {"link": "https://cdn.example.com/case.pdf", "filename": "case.pdf"}}),
        ),
    ];
    for (edit, parameter) in cases {
        let app = spawn_app_with(Options {
            edit: Some(edit),
            ..Options::default()
        })
        .await;
        app.put_case(&resolved_case("C-1", "+34600111222")).await;
        // "sent" needs the mock's acceptance: it refuses a header that does not match the
        // template's format or Meta's shape.
        app.invite_reaches("C-1", "sent").await;
        let sent = app.mock.received().remove(0);
        assert_eq!(
            sent.body["template"]["components"][0],
            json!({"type": "header", "parameters": [parameter]}),
            "{}",
            sent.body
        );
        app.stop().await;
    }
}
