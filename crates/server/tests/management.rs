//! The management API (SPEC §5, issue 5): CRUD of the config's objects with survey-level
//! permissions, the §3.3 validation answering 422 with the field path, ETag/If-Match,
//! write-only secrets, API tokens shown once and revocable, clone and test, and changes
//! that survive a restart.

mod common;

use std::time::Duration;

use common::*;
use reqwest::Method;
use serde_json::{json, Value};

const GET: Method = Method::GET;
const POST: Method = Method::POST;
const PUT: Method = Method::PUT;
const PATCH: Method = Method::PATCH;
const DELETE: Method = Method::DELETE;

async fn app_with_users() -> TestApp {
    spawn_app_with(Options {
        edit: Some(with_users),
        ..Options::default()
    })
    .await
}

/// A distribution of `survey` in the config file's form.
fn distribution(id: &str, survey: &str) -> Value {
    json!({
        "id": id, "survey": survey, "channel": "whatsapp", "schedule": "trigger_based",
        "sender_account": "support-wa",
        "messages": {"invitation": {
            "template": "csat_invite",
            "languages": {"en": "en_US", "es": "es", "pt_BR": "pt_BR"},
            "body": "Hi {{1}}, your case {{2}} is resolved. Tell us how we did: {{3}}",
            "body_params": ["{{profile.first_name}}", "{{case.number}}", "{{survey.link}}"],
            "url_button_suffix": "{{survey.token}}"
        }}
    })
}

/// A rule inviting through `survey`/`distribution` when a case resolves.
fn invite_rule(id: &str, survey: &str, distribution: &str) -> Value {
    json!({
        "id": id, "on": "case_update",
        "when": {"case.status": {"changed_to": "Resolved"}},
        "then": [{"trigger_survey_invitation": {"survey": survey, "channel": "whatsapp", "distribution": distribution}}]
    })
}

async fn etag(app: &TestApp, path: &str, token: &str) -> String {
    let response = app
        .http
        .get(app.api(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{path}");
    response.headers()["etag"].to_str().unwrap().to_string()
}

async fn send_with_if_match(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    if_match: &str,
    body: Option<Value>,
) -> (u16, Value, Option<String>) {
    let mut request = app
        .http
        .request(method, app.api(path))
        .bearer_auth(token)
        .header("If-Match", if_match);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let tag = response
        .headers()
        .get("etag")
        .map(|v| v.to_str().unwrap().to_string());
    (status, response.json().await.unwrap_or(Value::Null), tag)
}

#[tokio::test]
async fn view_distribution_reads_and_edit_distribution_creates_changes_clones_and_tests() {
    let app = app_with_users().await;
    let (status, body) = call(&app, GET, "/distributions/csat-wa", Some(BOB), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["state"], "active");

    let new = distribution("csat-wa-2", "csat");
    let forbidden = [
        (POST, "/distributions".to_string(), Some(new.clone())),
        (
            PUT,
            "/distributions/csat-wa".to_string(),
            Some(distribution("csat-wa", "csat")),
        ),
        (
            PATCH,
            "/distributions/csat-wa".to_string(),
            Some(json!({"status": "paused"})),
        ),
        (POST, "/distributions/csat-wa/clone".to_string(), None),
        (
            POST,
            "/distributions/csat-wa/test".to_string(),
            Some(json!({"to": "+34600999111"})),
        ),
        (DELETE, "/distributions/csat-wa".to_string(), None),
    ];
    for (method, path, body) in forbidden {
        let (status, answer) = call(&app, method.clone(), &path, Some(BOB), body).await;
        assert_eq!(
            status, 403,
            "{method} {path} with view_distribution: {answer}"
        );
        assert_eq!(answer["error"]["code"], "forbidden");
        assert!(
            answer["error"]["message"]
                .as_str()
                .unwrap()
                .contains("edit_distribution"),
            "the 403 names the permission missing: {answer}"
        );
    }

    let (status, created) = call(&app, POST, "/distributions", Some(CAROL), Some(new)).await;
    assert_eq!(status, 201, "edit_distribution creates: {created}");
    assert_eq!(created["state"], "active");
    let (status, paused) = call(
        &app,
        PATCH,
        "/distributions/csat-wa-2",
        Some(CAROL),
        Some(json!({"status": "paused"})),
    )
    .await;
    assert_eq!(status, 200, "{paused}");
    assert_eq!(
        (paused["status"].as_str(), paused["state"].as_str()),
        (Some("paused"), Some("paused"))
    );
    let (status, clone) = call(
        &app,
        POST,
        "/distributions/csat-wa/clone",
        Some(CAROL),
        None,
    )
    .await;
    assert_eq!(status, 201, "{clone}");
    assert_eq!(clone["id"], "csat-wa-copy");
    assert_eq!(clone["status"], "draft");
    let (status, clone2) = call(
        &app,
        POST,
        "/distributions/csat-wa/clone",
        Some(CAROL),
        None,
    )
    .await;
    assert_eq!(
        (status, clone2["id"].as_str()),
        (201, Some("csat-wa-copy-2"))
    );
    let (status, test) = call(
        &app,
        POST,
        "/distributions/csat-wa-copy/test",
        Some(CAROL),
        Some(json!({"to": "+34600999111", "message": "invitation", "language": "es"})),
    )
    .await;
    assert_eq!(status, 202, "{test}");
    let received = app.mock.wait_for_messages(1, Duration::from_secs(10)).await;
    assert_eq!(received[0].to, "34600999111");

    for token in [DAVE] {
        for list in ["/distributions", "/surveys", "/rules"] {
            let (status, body) = call(&app, GET, list, Some(token), None).await;
            assert_eq!(status, 200);
            assert_eq!(body["items"], json!([]), "no share: nothing in {list}");
        }
    }
    let (_, listed) = call(&app, GET, "/distributions", Some(BOB), None).await;
    let ids: Vec<&str> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["id"].as_str())
        .collect();
    assert_eq!(
        ids,
        vec!["csat-wa", "csat-wa-2", "csat-wa-copy", "csat-wa-copy-2"]
    );
    app.stop().await;
}

#[tokio::test]
async fn a_rule_is_validated_as_its_author_with_the_field_path() {
    let app = app_with_users().await;
    let nps = json!({
        "id": "nps", "owner": "alice", "default_language": "en", "languages": ["en", "es", "pt_BR"],
        "questions": [{"id": "nps", "type": "nps", "required": true, "text": {"en": "Recommend us?"}}]
    });
    let (status, body) = call(&app, POST, "/surveys", Some(ALICE), Some(nps)).await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = call(
        &app,
        POST,
        "/distributions",
        Some(ALICE),
        Some(distribution("nps-wa", "nps")),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let mut expired = distribution("csat-old", "csat");
    expired["expires_at"] = json!("2020-01-01T00:00:00Z");
    let (status, body) = call(&app, POST, "/distributions", Some(CAROL), Some(expired)).await;
    assert_eq!(status, 201, "{body}");
    let mut paused = distribution("csat-paused", "csat");
    paused["status"] = json!("paused");
    let (status, body) = call(&app, POST, "/distributions", Some(CAROL), Some(paused)).await;
    assert_eq!(status, 201, "{body}");

    let cases = [
        (
            CAROL,
            invite_rule("r", "csat", "nps-wa"),
            "then[0].trigger_survey_invitation.distribution",
            "belongs to survey `nps`",
        ),
        (
            CAROL,
            invite_rule("r", "csat", "csat-paused"),
            "then[0].trigger_survey_invitation.distribution",
            "is paused",
        ),
        (
            CAROL,
            invite_rule("r", "csat", "csat-old"),
            "then[0].trigger_survey_invitation.distribution",
            "has expired",
        ),
        (
            CAROL,
            invite_rule("r", "nps", "nps-wa"),
            "then[0].trigger_survey_invitation.survey",
            "`carol` may not write rules for survey `nps`",
        ),
        (
            BOB,
            invite_rule("r", "csat", "csat-wa"),
            "then[0].trigger_survey_invitation.survey",
            "`bob` may not write rules",
        ),
    ];
    for (token, rule, path, message) in cases {
        let (status, body) = call(&app, POST, "/rules", Some(token), Some(rule.clone())).await;
        assert_eq!(status, 422, "{rule}: {body}");
        assert_eq!(body["error"]["code"], "invalid_config");
        assert_eq!(body["error"]["path"], path, "{body}");
        assert!(
            body["error"]["message"].as_str().unwrap().contains(message),
            "{body}"
        );
    }
    let (status, body) = call(&app, GET, "/rules/r", Some(ALICE), None).await;
    assert_eq!(status, 404, "nothing was stored: {body}");

    let (status, body) = call(
        &app,
        POST,
        "/rules",
        Some(CAROL),
        Some(invite_rule("r", "csat", "csat-wa")),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["author"], "carol", "a rule records who wrote it");
    let (_, rules) = call(&app, GET, "/rules", Some(CAROL), None).await;
    assert_eq!(rules["items"].as_array().map(Vec::len), Some(2), "{rules}");

    let (status, body) = call(&app, DELETE, "/distributions/nps-wa", Some(ALICE), None).await;
    assert_eq!(status, 204, "{body}");
    let (status, body) = call(&app, DELETE, "/surveys/csat", Some(ALICE), None).await;
    assert_eq!(status, 409, "a survey in use cannot be deleted: {body}");
    assert_eq!(body["error"]["code"], "breaks_config");
    assert!(
        body["error"]["path"]
            .as_str()
            .unwrap()
            .starts_with("distributions["),
        "{body}"
    );

    let mut bad = distribution("bad", "csat");
    bad["messages"]["invitation"]["body_params"] = json!(["{{profile.first_name}}"]);
    let (status, body) = call(&app, POST, "/distributions", Some(CAROL), Some(bad)).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["path"], "messages.invitation.body_params");
    app.stop().await;
}

#[tokio::test]
async fn a_rule_written_through_the_api_fires_and_a_cloned_draft_goes_live() {
    let app = spawn_app().await;
    let (status, clone) = call(
        &app,
        POST,
        "/distributions/csat-wa/clone",
        None,
        Some(json!({"id": "csat-live"})),
    )
    .await;
    assert_eq!(
        (status, clone["status"].as_str()),
        (201, Some("draft")),
        "{clone}"
    );
    let rule = json!({
        "id": "vip", "on": "case_update",
        "when": {"all": [{"case.status": {"changed_to": "Resolved"}}, {"case.tags": {"contains": "vip"}}]},
        "then": [{"trigger_survey_invitation": {"survey": "csat", "channel": "whatsapp", "distribution": "csat-live", "use_distribution_account": true}}]
    });
    let (status, body) = call(&app, POST, "/rules", None, Some(rule)).await;
    assert_eq!(
        status, 201,
        "a rule may name a draft (it sends once active): {body}"
    );

    let mut case = resolved_case("C-7001", "+34600111001");
    case["case_type"] = json!("other");
    case["tags"] = json!(["vip"]);
    app.put_case(&case).await;
    let trace = app.settled("C-7001").await;
    let text = trace.to_string();
    assert!(
        text.contains("distribution_not_active"),
        "a draft sends nothing: {text}"
    );

    let (status, body) = call(
        &app,
        PATCH,
        "/distributions/csat-live",
        None,
        Some(json!({"status": "active"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let mut case = resolved_case("C-7002", "+34600111002");
    case["case_type"] = json!("other");
    case["tags"] = json!(["vip"]);
    app.put_case(&case).await;
    let invite = app.invite_reaches("C-7002", "opened").await;
    assert_eq!(invite["distribution"], "csat-live");
    assert_eq!(app.messages_to("34600111002", "csat_invite"), 1);
    app.stop().await;
}

#[tokio::test]
async fn if_match_keeps_two_operators_from_overwriting_each_other() {
    let app = app_with_users().await;
    let first = etag(&app, "/surveys/csat", ALICE).await;
    let (_, survey) = call(&app, GET, "/surveys/csat", Some(ALICE), None).await;
    let mut renamed = survey.clone();
    renamed["name"] = json!("Renamed by Alice");
    let (status, body, second) =
        send_with_if_match(&app, PUT, "/surveys/csat", ALICE, &first, Some(renamed)).await;
    assert_eq!(status, 200, "{body}");
    let second = second.expect("a write answers the new ETag");
    assert_ne!(first, second);

    let mut stale = survey.clone();
    stale["name"] = json!("Renamed by someone who read it before");
    let (status, body, _) =
        send_with_if_match(&app, PUT, "/surveys/csat", ALICE, &first, Some(stale)).await;
    assert_eq!(status, 412, "{body}");
    assert_eq!(body["error"]["code"], "precondition_failed");
    let (status, _, _) = send_with_if_match(
        &app,
        PATCH,
        "/surveys/csat",
        ALICE,
        &first,
        Some(json!({"name": "x"})),
    )
    .await;
    assert_eq!(status, 412);
    let (status, _, _) =
        send_with_if_match(&app, DELETE, "/surveys/csat", ALICE, &first, None).await;
    assert_eq!(status, 412);
    let (_, now) = call(&app, GET, "/surveys/csat", Some(ALICE), None).await;
    assert_eq!(now["name"], "Renamed by Alice");
    assert_eq!(etag(&app, "/surveys/csat", ALICE).await, second);

    let (status, body) = call(&app, PUT, "/surveys/csat", Some(CAROL), Some(survey)).await;
    assert_eq!(
        status, 403,
        "edit_distribution does not change the survey itself: {body}"
    );
    app.stop().await;
}

#[tokio::test]
async fn tokens_are_shown_once_work_until_revoked_and_no_get_returns_a_secret() {
    let mut app = app_with_users().await;
    let (status, body) = call(&app, POST, "/users", Some(BOB), Some(json!({"id": "erin"}))).await;
    assert_eq!(status, 403, "members do not manage users: {body}");
    let (status, erin) = call(
        &app,
        POST,
        "/users",
        Some(ALICE),
        Some(json!({"id": "erin", "name": "Erin", "role": "member"})),
    )
    .await;
    assert_eq!(status, 201, "{erin}");
    let token = erin["token"]
        .as_str()
        .expect("the token, shown once")
        .to_string();
    assert!(token.len() >= 64, "at least 256 bits: {token}");
    let (status, _) = call(&app, GET, "/surveys", Some(&token), None).await;
    assert_eq!(status, 200, "the new token authenticates");
    let (status, body) = call(
        &app,
        POST,
        "/users",
        Some(ALICE),
        Some(json!({"id": "frank", "token": "chosen"})),
    )
    .await;
    assert_eq!(
        (status, body["error"]["path"].as_str()),
        (422, Some("token")),
        "{body}"
    );

    let (status, account) = call(
        &app,
        PATCH,
        "/accounts/other-wa",
        Some(ALICE),
        Some(json!({"messages_per_second": 20})),
    )
    .await;
    assert_eq!(status, 200, "{account}");
    assert_eq!(account["messages_per_second"], 20);

    let (_, second) = call(&app, POST, "/users/erin/tokens", Some(&token), None).await;
    let second_token = second["token"].as_str().unwrap().to_string();
    let (status, listed) = call(&app, GET, "/users/erin/tokens", Some(&second_token), None).await;
    assert_eq!(
        (status, listed["items"].as_array().map(Vec::len)),
        (200, Some(2))
    );

    let paths: Vec<String> = [
        "/users",
        "/users/erin",
        "/users/alice",
        "/users/erin/tokens",
        "/accounts",
        "/accounts/support-wa",
        "/accounts/other-wa",
        "/surveys",
        "/rules",
        "/distributions",
        "/openapi.json",
    ]
    .iter()
    .map(|p| p.to_string())
    .collect();
    assert_no_secret_in(&app, &paths, &[&token, &second_token]).await;

    let first_id = erin["token_id"].as_str().unwrap();
    let (status, _) = call(
        &app,
        DELETE,
        &format!("/users/erin/tokens/{first_id}"),
        Some(&second_token),
        None,
    )
    .await;
    assert_eq!(status, 204);
    let (status, _) = call(&app, GET, "/surveys", Some(&token), None).await;
    assert_eq!(status, 401, "a revoked token no longer works");
    let (status, _) = call(&app, GET, "/surveys", Some(&second_token), None).await;
    assert_eq!(status, 200);

    app.restart().await;
    let (status, _) = call(&app, GET, "/users/erin", Some(&second_token), None).await;
    assert_eq!(
        status, 200,
        "users and tokens made through the API survive a restart"
    );
    let (_, account) = call(&app, GET, "/accounts/other-wa", Some(ALICE), None).await;
    assert_eq!(
        account["messages_per_second"], 20,
        "so do changes to file objects"
    );
    let (status, _) = call(&app, DELETE, "/users/erin", Some(ALICE), None).await;
    assert_eq!(status, 204);
    let (status, _) = call(&app, GET, "/surveys", Some(&second_token), None).await;
    assert_eq!(status, 401, "a deleted user's tokens no longer work");
    app.stop().await;
}

#[tokio::test]
async fn an_account_replaced_without_its_secrets_keeps_them_and_still_sends() {
    let app = spawn_app().await;
    let (_, account) = call(&app, GET, "/accounts/support-wa", None, None).await;
    assert!(
        account.get("access_token").is_none() && account.get("app_secret").is_none(),
        "{account}"
    );
    let mut changed = account.clone();
    changed["display_phone_number"] = json!("+1 555 0100");
    let (status, body) = call(&app, PUT, "/accounts/support-wa", None, Some(changed)).await;
    assert_eq!(status, 200, "what was read can be written back: {body}");
    assert_eq!(body["display_phone_number"], "+1 555 0100");
    app.put_case(&resolved_case("C-7101", "+34600111101")).await;
    app.invite_reaches("C-7101", "opened").await;
    assert_eq!(
        app.messages_to("34600111101", "csat_invite"),
        1,
        "the kept token is accepted by the Cloud API"
    );
    app.stop().await;
}
