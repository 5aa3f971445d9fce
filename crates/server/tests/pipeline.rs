//! The core pipeline end to end: case update → rule → WhatsApp template message at the
//! Cloud API mock → status webhooks → invite status.

mod common;

use std::time::Duration;

use closeloop_wamock::Failure;
use common::*;
use serde_json::{json, Value};

#[tokio::test]
async fn resolved_case_sends_exactly_one_template_message_in_the_wire_format() {
    let app = spawn_app().await;
    let response = app
        .put_case(&resolved_case("C-1001", "+34 600 111 222"))
        .await;
    assert_eq!(response.status(), 202);
    let body: Value = response.json().await.unwrap();
    assert!(body["event_id"]
        .as_str()
        .is_some_and(|e| e.starts_with("evt_")));

    let received = app.mock.wait_for_messages(1, Duration::from_secs(10)).await;
    assert_eq!(received.len(), 1);
    let message = &received[0];
    assert_eq!(message.phone_number_id, PHONE_NUMBER_ID);
    assert_eq!(message.to, "34600111222");
    let template = &message.body["template"];
    assert_eq!(message.body["type"], "template");
    assert_eq!(template["name"], "csat_invite");
    assert_eq!(
        template["language"]["code"], "es",
        "profile.language es maps to the es template"
    );
    let components = template["components"].as_array().unwrap();
    let body_params: Vec<&str> = components[0]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["text"].as_str().unwrap())
        .collect();
    assert_eq!(components[0]["type"], "body");
    assert_eq!(body_params[0], "Ana");
    assert_eq!(body_params[1], "1001");
    let link = body_params[2];
    let token = link
        .strip_prefix("http://closeloop.test/s/")
        .expect("link under public_url");
    assert!(token.len() >= 32, "≥128-bit token");
    assert_eq!(components[1]["sub_type"], "url");
    assert_eq!(components[1]["parameters"][0]["text"], token);

    let invite = app.invite_reaches("C-1001", "opened").await;
    assert_eq!(invite["link"], link);
    assert_eq!(invite["recipient"], "+34600111222");
    assert_eq!(invite["recipient_source"], "profile.phone");
    assert_eq!(invite["language"], "es");
    assert_eq!(invite["account"], "support-wa");
    assert_eq!(invite["snapshot"]["assignee"], "agent-7");
    assert_eq!(
        invite["messages"][0]["provider_message_id"],
        message.wamid.as_str()
    );

    let page = app
        .http
        .get(format!("{}/s/{token}", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("¿Qué tan satisfecho está?"),
        "the page is in the invite's language"
    );

    let (_, case) = app.get_json("/cases/C-1001").await;
    assert_eq!(
        case["queue"], "survey-sent",
        "move_to_queue ran after the invitation"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(app.mock.received().len(), 1, "still exactly one message");
    app.stop().await;
}

#[tokio::test]
async fn a_case_that_does_not_match_sends_nothing_and_the_trace_says_why() {
    let app = spawn_app().await;
    let mut case = resolved_case("C-2001", "+34600111222");
    case["status"] = json!("Open");
    assert_eq!(app.put_case(&case).await.status(), 202);
    let trace = app.settled("C-2001").await;
    let rule = &trace["events"][0]["rules"][0];
    assert_eq!(rule["rule"], "invite-on-resolve");
    assert_eq!(rule["matched"], false);
    let failed = rule["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["result"] == false)
        .expect("a failed condition in the trace");
    assert_eq!(failed["field"], "case.status");
    assert_eq!(failed["op"], "changed_to");
    assert_eq!(failed["expected"], "Resolved");
    assert_eq!(failed["actual"], "Open");
    assert!(app.mock.received().is_empty());
    assert!(app.invites_of("C-2001").await.is_empty());
    app.stop().await;
}

#[tokio::test]
async fn an_unchanged_case_emits_no_event() {
    let app = spawn_app().await;
    let mut case = resolved_case("C-2101", "+34600111222");
    case["status"] = json!("Open");
    assert_eq!(app.put_case(&case).await.status(), 202);
    let again = app.put_case(&case).await;
    assert_eq!(again.status(), 200);
    assert_eq!(again.json::<Value>().await.unwrap(), json!({"changed": []}));
    let trace = app.settled("C-2101").await;
    let kinds: Vec<&str> = trace["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["kind"].as_str())
        .collect();
    assert_eq!(kinds.iter().filter(|k| **k == "case_created").count(), 1);
    app.stop().await;
}

#[tokio::test]
async fn one_idempotency_key_and_once_per_case_give_one_invite() {
    let app = spawn_app().await;
    let case = resolved_case("C-3001", "+34600111222");
    let send = |key: &'static str, body: Value| {
        let request = app
            .http
            .put(app.api("/cases/C-3001"))
            .header("Idempotency-Key", key)
            .json(&body);
        async move { request.send().await.unwrap() }
    };
    let (first, second) = tokio::join!(send("k-1", case.clone()), send("k-1", case.clone()));
    let first: Value = first.json().await.unwrap();
    let second: Value = second.json().await.unwrap();
    assert_eq!(first, second, "the same key answers the same");

    app.invite_reaches("C-3001", "opened").await;
    let mut reopened = case.clone();
    reopened["status"] = json!("Open");
    assert_eq!(app.put_case(&reopened).await.status(), 202);
    assert_eq!(app.put_case(&case).await.status(), 202);
    let trace = app.settled("C-3001").await;
    let skipped = trace["events"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|e| e["rules"].as_array().unwrap().iter())
        .flat_map(|r| r["actions"].as_array().unwrap().iter())
        .any(|a| a["reason"] == "already_invited");
    assert!(
        skipped,
        "the second resolution is traced as already_invited"
    );
    assert_eq!(app.invites_of("C-3001").await.len(), 1);
    assert_eq!(app.mock.received().len(), 1);
    app.stop().await;
}

#[tokio::test]
async fn read_before_delivered_leaves_opened_and_forged_webhooks_are_refused() {
    let app = spawn_app().await;
    app.mock.set_auto_statuses(false);
    app.put_case(&resolved_case("C-4001", "+34600111222")).await;
    let received = app.mock.wait_for_messages(1, Duration::from_secs(10)).await;
    let wamid = received[0].wamid.clone();
    app.invite_reaches("C-4001", "sent").await;

    assert_eq!(app.mock.send_status(&wamid, "read", vec![]).await, 200);
    app.invite_reaches("C-4001", "opened").await;
    assert_eq!(app.mock.send_status(&wamid, "delivered", vec![]).await, 200);
    assert_eq!(app.mock.send_status(&wamid, "sent", vec![]).await, 200);
    let invite = &app.invites_of("C-4001").await[0];
    assert_eq!(
        invite["status"], "opened",
        "late statuses never move it back"
    );

    let forged = json!({"object": "whatsapp_business_account", "entry": [{"id": "WABA", "changes": [{"field": "messages",
        "value": {"messaging_product": "whatsapp", "metadata": {"display_phone_number": "15550100", "phone_number_id": PHONE_NUMBER_ID},
        "statuses": [{"id": wamid, "status": "failed", "timestamp": "1732000000", "recipient_id": "34600111222",
                      "errors": [{"code": 131026, "title": "Message undeliverable"}]}]}}]}]});
    let body = serde_json::to_vec(&forged).unwrap();
    let bad = closeloop_whatsapp::signature::sign(b"not-the-secret", &body);
    assert_eq!(app.mock.post_webhook(body.clone(), Some(bad)).await, 401);
    assert_eq!(app.mock.post_webhook(body, None).await, 401);
    let invite = &app.invites_of("C-4001").await[0];
    assert_eq!(
        invite["status"], "opened",
        "a forged webhook changes nothing"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_failed_status_webhook_marks_the_invite_failed_with_its_code() {
    let app = spawn_app().await;
    app.mock.set_auto_statuses(false);
    app.put_case(&resolved_case("C-4101", "+34600111222")).await;
    let received = app.mock.wait_for_messages(1, Duration::from_secs(10)).await;
    app.invite_reaches("C-4101", "sent").await;
    let status = app
        .mock
        .send_status(
            &received[0].wamid,
            "failed",
            vec![(131026, "Message undeliverable".into())],
        )
        .await;
    assert_eq!(status, 200);
    let invite = app.invite_reaches("C-4101", "failed").await;
    assert_eq!(invite["error"]["code"], 131026);
    assert_eq!(invite["error"]["title"], "Message undeliverable");
    app.stop().await;
}

#[tokio::test]
async fn a_webhook_for_one_account_signed_with_another_accounts_secret_is_refused() {
    let app = spawn_app().await;
    let payload = json!({"object": "whatsapp_business_account", "entry": [{"id": "WABA", "changes": [{"field": "messages",
        "value": {"messaging_product": "whatsapp", "metadata": {"display_phone_number": "15550200", "phone_number_id": OTHER_PHONE_NUMBER_ID},
        "statuses": []}}]}]});
    let body = serde_json::to_vec(&payload).unwrap();
    let signed_with_a = closeloop_whatsapp::signature::sign(APP_SECRET.as_bytes(), &body);
    assert_eq!(
        app.mock
            .post_webhook(body.clone(), Some(signed_with_a))
            .await,
        401
    );
    let signed_with_b = closeloop_whatsapp::signature::sign(OTHER_APP_SECRET.as_bytes(), &body);
    assert_eq!(app.mock.post_webhook(body, Some(signed_with_b)).await, 200);
    app.stop().await;
}

#[tokio::test]
async fn webhook_verification_answers_the_challenge_only_for_the_verify_token() {
    let app = spawn_app().await;
    let ok = app
        .http
        .get(format!("{}/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=verify-me&hub.challenge=12345", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.text().await.unwrap(), "12345");
    let bad = app
        .http
        .get(format!(
            "{}/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=12345",
            app.url
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 401);
    app.stop().await;
}

#[tokio::test]
async fn server_errors_are_retried_until_accepted_once() {
    let app = spawn_app().await;
    app.mock.fail_next(Failure::server_error());
    app.mock.fail_next(Failure::server_error());
    app.put_case(&resolved_case("C-5001", "+34600111222")).await;
    let invite = app.invite_reaches("C-5001", "opened").await;
    assert_eq!(app.mock.attempts(), 3, "500, 500, then 200");
    assert_eq!(app.mock.received().len(), 1, "exactly one accepted message");
    assert_eq!(invite["messages"][0]["attempts"], 3);
    app.stop().await;
}

#[tokio::test]
async fn throttling_is_retried_and_a_missing_template_fails_after_one_attempt() {
    let app = spawn_app().await;
    app.mock
        .fail_next(Failure::graph(429, 130429, "Rate limit hit"));
    app.put_case(&resolved_case("C-5101", "+34600111222")).await;
    app.invite_reaches("C-5101", "opened").await;
    assert_eq!(app.mock.attempts(), 2);

    app.mock.fail_next(Failure::graph(
        404,
        132001,
        "Template name does not exist in the translation",
    ));
    app.put_case(&resolved_case("C-5102", "+34600111333")).await;
    let invite = app.invite_reaches("C-5102", "failed").await;
    assert_eq!(invite["error"]["code"], 132001);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(app.mock.attempts(), 3, "a permanent error is not retried");
    app.stop().await;
}

#[tokio::test]
async fn an_auth_error_stops_the_account_visibly_and_keeps_the_message() {
    let app = spawn_app().await;
    app.mock
        .fail_next(Failure::graph(401, 190, "Invalid OAuth access token"));
    app.put_case(&resolved_case("C-5201", "+34600111222")).await;
    let health = common::eventually(Duration::from_secs(10), || async {
        let (_, accounts) = app.get_json("/accounts").await;
        accounts["items"]
            .as_array()?
            .iter()
            .find(|a| a["id"] == "support-wa" && a["healthy"] == false)
            .cloned()
    })
    .await
    .expect("the account is marked unhealthy");
    assert_eq!(health["unhealthy_code"], 190);
    let invite = &app.invites_of("C-5201").await[0];
    assert_eq!(
        invite["status"], "pending",
        "the message is kept, not failed"
    );
    let text = serde_json::to_string(&app.get_json("/accounts").await.1).unwrap();
    assert!(
        !text.contains(TOKEN) && !text.contains(APP_SECRET),
        "no secret in the API"
    );

    app.put_case(&resolved_case("C-5202", "+34600111333")).await;
    let trace = app.settled("C-5202").await;
    let action = &trace["events"][0]["rules"][0]["actions"][0];
    assert_eq!(action["reason"], "distribution_not_active");
    assert_eq!(app.mock.received().len(), 0);

    let resumed = app
        .http
        .post(app.api("/accounts/support-wa/resume"))
        .send()
        .await
        .unwrap();
    assert_eq!(resumed.status(), 200);
    let invite = app.invite_reaches("C-5201", "opened").await;
    assert_eq!(
        app.mock.attempts(),
        2,
        "refused once, then sent once after the resume"
    );
    assert_eq!(
        invite["messages"][0]["attempts"], 1,
        "an account error does not count against the message's retries"
    );
    assert_eq!(app.mock.received().len(), 1);
    app.stop().await;
}

#[tokio::test]
async fn never_more_than_messages_per_second_in_any_one_second_window() {
    let app = spawn_app_with(Options {
        messages_per_second: 5,
        ..Options::default()
    })
    .await;
    for i in 0..30 {
        let case = resolved_case(&format!("C-6{i:03}"), &format!("+3460011{i:04}"));
        assert_eq!(app.put_case(&case).await.status(), 202);
    }
    let received = app
        .mock
        .wait_for_messages(30, Duration::from_secs(20))
        .await;
    assert_eq!(received.len(), 30, "all 30 arrive");
    let times: Vec<_> = received.iter().map(|r| r.at).collect();
    let mut worst = 0;
    for (i, start) in times.iter().enumerate() {
        let in_window = times[i..]
            .iter()
            .take_while(|t| t.duration_since(*start) < Duration::from_secs(1))
            .count();
        worst = worst.max(in_window);
    }
    assert!(worst <= 5, "{worst} messages arrived within one second");
    app.stop().await;
}

#[tokio::test]
async fn a_suppressed_number_gets_no_message() {
    let app = spawn_app().await;
    let created = app
        .http
        .post(app.api("/suppressions"))
        .json(&json!({"phone": "+34 600 999 888", "reason": "operator"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    app.put_case(&resolved_case("C-7001", "+34600999888")).await;
    let invite = app.invite_reaches("C-7001", "suppressed").await;
    assert_eq!(invite["reason"], "suppressed");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(app.mock.received().is_empty());
    app.stop().await;
}

#[tokio::test]
async fn an_unparsable_phone_fails_the_invite_with_invalid_recipient() {
    let app = spawn_app().await;
    app.put_case(&resolved_case("C-7101", "not a phone")).await;
    let invite = app.invite_reaches("C-7101", "failed").await;
    assert_eq!(invite["reason"], "invalid_recipient");
    assert_eq!(invite["recipient_source"], "profile.phone");
    assert!(app.mock.received().is_empty());
    app.stop().await;
}

#[tokio::test]
async fn a_second_invitation_within_quarantine_is_quarantined() {
    let app = spawn_app_with(Options {
        quarantine: Some("30d"),
        ..Options::default()
    })
    .await;
    app.put_case(&resolved_case("C-7201", "+34600111222")).await;
    app.invite_reaches("C-7201", "opened").await;
    app.put_case(&resolved_case("C-7202", "+34600111222")).await;
    let invite = app.invite_reaches("C-7202", "quarantined").await;
    assert_eq!(invite["reason"], "quarantined");
    assert_eq!(app.mock.received().len(), 1);
    app.stop().await;
}
