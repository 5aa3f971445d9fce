//! Answers inside WhatsApp (SPEC §4.16): the invitation's quick-reply buttons carry signed
//! payloads, and a tap records its answer through the same rules as the survey page.

mod common;

use std::time::Duration;

use closeloop_wamock::Inbound;
use closeloop_whatsapp::webhook::InboundContent;
use common::*;
use serde_json::Value;

const THANK: &str = r#"
  - id: thank
    on: case_update
    when:
      - survey.response_status: { survey: csat, channel: whatsapp, distribution: csat-wa, in: [completed] }
    then:
      - send_thank_you_message: { survey: csat, channel: whatsapp, distribution: csat-wa }
"#;

fn with_quick_replies(config: String) -> String {
    config.replacen(
        "        url_button_suffix: \"{{survey.token}}\"\n",
        "        url_button_suffix: \"{{survey.token}}\"\n        quick_replies: { question: score, values: [5, 3, 1] }\n",
        1,
    )
}

fn tap(from: &str, payload: &str, wamid: Option<&str>) -> Inbound {
    let mut inbound = Inbound::new(
        from,
        InboundContent::QuickReply {
            payload: payload.into(),
            text: Some("⭐⭐⭐⭐⭐".into()),
        },
    );
    inbound.wamid = wamid.map(str::to_string);
    inbound
}

async fn response_of(app: &TestApp, case: &str) -> String {
    app.invites_of(case).await[0]["response_status"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn a_tap_on_a_quick_reply_completes_the_survey_once_and_forgeries_record_nothing() {
    let app = spawn_app_with(Options {
        extra_rules: THANK,
        edit: Some(with_quick_replies),
        ..Options::default()
    })
    .await;
    app.put_case(&resolved_case("C-1", "+34600111222")).await;
    app.invite_reaches("C-1", "sent").await;
    let invitation = app
        .mock
        .received()
        .into_iter()
        .find(|r| r.to == "34600111222")
        .expect("the invitation reached the mock");
    let replies = invitation.request.quick_replies();
    let indices: Vec<&str> = replies.iter().map(|(i, _)| i.as_str()).collect();
    assert_eq!(
        indices,
        ["1", "2", "3"],
        "after the URL button: {replies:?}"
    );
    let payloads: Vec<String> = replies.into_iter().map(|(_, p)| p).collect();
    assert_eq!(
        payloads
            .iter()
            .collect::<std::collections::BTreeSet<_>>()
            .len(),
        3,
        "one payload per button"
    );

    // A payload with its last character changed, and the right payload from another number.
    let mut tampered = payloads[0].clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == '0' { '1' } else { '0' });
    for inbound in [
        tap("34600111222", &tampered, None),
        tap("34600999888", &payloads[0], None),
    ] {
        let posted = app.mock.post_inbound(PHONE_NUMBER_ID, inbound).await;
        assert_eq!(posted.status, 200);
    }
    app.settled("C-1").await;
    assert_eq!(response_of(&app, "C-1").await, "not_started");

    // The first button (5), delivered twice with the same wamid.
    let first = app
        .mock
        .post_inbound(PHONE_NUMBER_ID, tap("34600111222", &payloads[0], None))
        .await;
    assert_eq!(first.status, 200);
    let again = app
        .mock
        .post_inbound(
            PHONE_NUMBER_ID,
            tap("34600111222", &payloads[0], Some(&first.wamid)),
        )
        .await;
    assert_eq!(again.status, 200);
    app.response_reaches("C-1", "completed").await;

    let thanked = eventually(Duration::from_secs(10), || async {
        (app.messages_to("34600111222", "csat_thanks") >= 1).then_some(())
    })
    .await;
    assert!(
        thanked.is_some(),
        "a thank-you follows the completed response"
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(app.messages_to("34600111222", "csat_thanks"), 1);

    let trace = app.settled("C-1").await;
    let received = trace["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "message_received")
        .count();
    assert_eq!(
        received, 2,
        "the tampered tap and the real one; not the redelivery, not the other number"
    );
    let notes: Vec<&str> = trace["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["note"].as_str())
        .collect();
    assert_eq!(
        notes,
        ["reply recorded no answer: its signature does not match (tampered or forged)"],
        "the trace says why the tampered tap recorded nothing"
    );

    let (status, body) = app.get_json("/analytics?survey=csat&group_by=agent").await;
    assert_eq!(status, 200, "{body}");
    let items: &Vec<Value> = body["items"].as_array().expect("items");
    assert_eq!(items[0]["csat_avg"], 5.0, "{body}");
    assert_eq!(items[0]["completed"], 1, "{body}");
    app.stop().await;
}

/// The survey of the in-chat test: a rating, a single choice of three and a free text, all
/// required, so only the last answer completes it.
fn in_chat_survey(config: String) -> String {
    let questions = concat!(
        "      - { id: score, type: rating, required: true, text: { en: \"How satisfied are you?\", es: \"¿Qué tan satisfecho está?\" } }\n",
        "      - { id: channel, type: single_choice, required: true, text: { en: \"How did you contact us?\", es: \"¿Cómo nos contactó?\" },\n",
        "          options: [ { id: phone, text: { en: Phone, es: Teléfono } }, { id: mail, text: { en: Email, es: Correo } }, { id: chat, text: { en: Chat, es: Chat } } ] }\n",
        "      - { id: comment, type: text, required: true, text: { en: \"Anything else?\", es: \"¿Algo más?\" } }\n",
    );
    let start = config
        .find("      - { id: score")
        .expect("the score question");
    let end = config.find("distributions:").expect("the distributions");
    let mut config = config;
    config.replace_range(start..end, questions);
    with_quick_replies(config)
}

/// What the mock received for `to` after the first `skip` messages, once it arrives.
async fn next_message_to(app: &TestApp, to: &str, skip: usize) -> closeloop_wamock::Received {
    let found = eventually(Duration::from_secs(10), || async {
        app.mock
            .received()
            .into_iter()
            .filter(|r| r.to == to)
            .nth(skip)
    })
    .await;
    found.unwrap_or_else(|| panic!("message {} to {to} never reached the mock", skip + 1))
}

#[tokio::test]
async fn an_in_chat_survey_asks_each_next_question_in_spanish_until_the_text_completes_it() {
    let app = spawn_app_with(Options {
        distribution: "in_chat: true",
        edit: Some(in_chat_survey),
        extra_rules: THANK,
        ..Options::default()
    })
    .await;
    let mut case = resolved_case("C-1", "+34600111222");
    case["profile"]["language"] = "es".into();
    app.put_case(&case).await;
    let invitation = next_message_to(&app, "34600111222", 0).await;
    let payloads: Vec<String> = invitation
        .request
        .quick_replies()
        .into_iter()
        .map(|(_, p)| p)
        .collect();
    assert_eq!(payloads.len(), 3, "{:?}", invitation.body);

    // The tap on 5 answers the rating; the choice question follows as three reply buttons.
    let posted = app
        .mock
        .post_inbound(PHONE_NUMBER_ID, tap("34600111222", &payloads[0], None))
        .await;
    assert_eq!(posted.status, 200);
    let choice = next_message_to(&app, "34600111222", 1).await;
    assert_eq!(
        choice.request.text(),
        Some("¿Cómo nos contactó?"),
        "{}",
        choice.body
    );
    let options = choice.request.options();
    let titles: Vec<&str> = options.iter().map(|(_, t)| t.as_str()).collect();
    assert_eq!(titles, ["Teléfono", "Correo", "Chat"], "{}", choice.body);
    assert_eq!(
        choice.body["interactive"]["type"], "button",
        "{}",
        choice.body
    );
    assert_eq!(response_of(&app, "C-1").await, "in_progress");

    // A reply id with one character changed records nothing and asks nothing.
    let mut forged = options[1].0.clone();
    let last = forged.pop().unwrap();
    forged.push(if last == '0' { '1' } else { '0' });
    let reply = |id: &str, title: &str| {
        Inbound::new(
            "34600111222",
            InboundContent::ButtonReply {
                id: id.into(),
                title: Some(title.into()),
            },
        )
    };
    let posted = app
        .mock
        .post_inbound(PHONE_NUMBER_ID, reply(&forged, "Correo"))
        .await;
    assert_eq!(posted.status, 200);
    app.settled("C-1").await;
    let answers = app.invites_of("C-1").await[0]["answers"].clone();
    assert_eq!(answers, serde_json::json!({"score": 5}));

    // The real reply brings the text question as a text prompt.
    app.mock
        .post_inbound(PHONE_NUMBER_ID, reply(&options[1].0, "Correo"))
        .await;
    let prompt = next_message_to(&app, "34600111222", 2).await;
    assert_eq!(prompt.body["type"], "text", "{}", prompt.body);
    assert_eq!(prompt.request.text(), Some("¿Algo más?"));
    assert_eq!(response_of(&app, "C-1").await, "in_progress");

    // The next text the customer types is the answer, and completes the response.
    let text = Inbound::new(
        "34600111222",
        InboundContent::Text {
            body: "Todo bien, gracias".into(),
        },
    );
    app.mock.post_inbound(PHONE_NUMBER_ID, text).await;
    app.response_reaches("C-1", "completed").await;
    let invite = &app.invites_of("C-1").await[0];
    assert_eq!(invite["answers"]["score"], 5, "{invite}");
    assert_eq!(invite["answers"]["channel"], "mail", "{invite}");
    assert_eq!(
        invite["answers"]["comment"], "Todo bien, gracias",
        "{invite}"
    );

    // The thank-you ends the chat as a free-form text: the customer wrote a moment ago,
    // so the 24-hour window is open. Nothing more is asked.
    let thanks = next_message_to(&app, "34600111222", 3).await;
    assert_eq!(thanks.body["type"], "text", "{}", thanks.body);
    assert_eq!(thanks.request.text(), Some("Thank you, Ana!"));
    tokio::time::sleep(Duration::from_secs(1)).await;
    let sent = app
        .mock
        .received()
        .into_iter()
        .filter(|r| r.to == "34600111222")
        .count();
    assert_eq!(sent, 4, "the invitation, two questions and the thank-you");
    app.stop().await;
}

#[tokio::test]
async fn a_question_meta_refuses_outside_the_window_is_recorded_with_131047_and_ends_nothing() {
    let app = spawn_app_with(Options {
        distribution: "in_chat: true",
        edit: Some(in_chat_survey),
        // Every free-form message falls outside the customer service window.
        service_window: Duration::ZERO,
        ..Options::default()
    })
    .await;
    app.put_case(&resolved_case("C-1", "+34600111222")).await;
    let invitation = next_message_to(&app, "34600111222", 0).await;
    let payload = invitation.request.quick_replies()[0].1.clone();
    app.mock
        .post_inbound(PHONE_NUMBER_ID, tap("34600111222", &payload, None))
        .await;
    let refused = eventually(Duration::from_secs(10), || async {
        let invite = app.invites_of("C-1").await.remove(0);
        let question = invite["messages"]
            .as_array()?
            .iter()
            .find(|m| m["kind"] == "question" && m["status"] == "failed")?
            .clone();
        Some((invite, question))
    })
    .await;
    let (invite, question) = refused.expect("the question is refused and recorded");
    assert_eq!(question["error"]["code"], 131047, "{question}");
    assert_eq!(
        question["attempts"], 1,
        "a permanent refusal is not retried: {question}"
    );
    let status = invite["status"].as_str().unwrap_or_default();
    assert!(
        ["sent", "delivered", "opened"].contains(&status),
        "the invite is not failed by its question: {invite}"
    );
    assert_eq!(invite["response_status"], "in_progress", "{invite}");
    assert_eq!(invite["answers"], serde_json::json!({"score": 5}));
    app.stop().await;
}
