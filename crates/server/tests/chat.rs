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

    let (status, body) = app.get_json("/analytics?survey=csat&group_by=agent").await;
    assert_eq!(status, 200, "{body}");
    let items: &Vec<Value> = body["items"].as_array().expect("items");
    assert_eq!(items[0]["csat_avg"], 5.0, "{body}");
    assert_eq!(items[0]["completed"], 1, "{body}");
    app.stop().await;
}
