//! Survey-level permissions and the read side of the management API: owners and admins
//! see and change everything; `view_distribution` reads; `edit_distribution` also tests;
//! no share, nothing visible. No GET returns a secret.

mod common;

use std::time::Duration;

use common::*;
use serde_json::json;

#[tokio::test]
async fn view_reads_edit_tests_and_no_share_sees_nothing() {
    let app = spawn_app_with(Options {
        edit: Some(with_users),
        ..Options::default()
    })
    .await;
    let get = reqwest::Method::GET;
    let post = reqwest::Method::POST;

    let (status, body) = call(&app, get.clone(), "/distributions/csat-wa", None, None).await;
    assert_eq!(status, 401, "{body}");
    let (status, _) = call(
        &app,
        get.clone(),
        "/distributions/csat-wa",
        Some("wrong"),
        None,
    )
    .await;
    assert_eq!(status, 401);

    let (status, body) = call(&app, get.clone(), "/distributions/csat-wa", Some(BOB), None).await;
    assert_eq!(status, 200, "view_distribution reads: {body}");
    assert_eq!(body["status"], "active");
    let test = json!({"to": "+34600999111", "message": "invitation", "language": "es"});
    let (status, body) = call(
        &app,
        post.clone(),
        "/distributions/csat-wa/test",
        Some(BOB),
        Some(test.clone()),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"]["code"], "forbidden");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("edit_distribution"),
        "{body}"
    );

    let (status, body) = call(
        &app,
        post.clone(),
        "/distributions/csat-wa/test",
        Some(CAROL),
        Some(test),
    )
    .await;
    assert_eq!(status, 202, "edit_distribution tests: {body}");
    assert_eq!(body["test"], true);
    let received = app.mock.wait_for_messages(1, Duration::from_secs(10)).await;
    assert_eq!(received.len(), 1, "the test message reaches the mock");
    assert_eq!(received[0].to, "34600999111");
    assert_eq!(received[0].body["template"]["language"]["code"], "es");

    let (status, body) = call(&app, get.clone(), "/distributions", Some(DAVE), None).await;
    assert_eq!(status, 200);
    assert_eq!(
        body["items"],
        json!([]),
        "no share: no distributions listed"
    );
    let (status, body) = call(&app, get.clone(), "/surveys", Some(DAVE), None).await;
    assert_eq!(status, 200);
    assert_eq!(body["items"], json!([]), "no share: no surveys listed");
    let (status, _) = call(&app, get.clone(), "/surveys/csat", Some(DAVE), None).await;
    assert_eq!(status, 403);
    let (status, _) = call(
        &app,
        get.clone(),
        "/analytics?survey=csat&group_by=agent",
        Some(DAVE),
        None,
    )
    .await;
    assert_eq!(status, 403);
    let (status, body) = call(&app, get.clone(), "/surveys", Some(BOB), None).await;
    assert_eq!(
        body["items"].as_array().map(Vec::len),
        Some(1),
        "{status} {body}"
    );
    let (_, body) = call(&app, get.clone(), "/distributions", Some(ALICE), None).await;
    assert_eq!(
        body["items"].as_array().map(Vec::len),
        Some(1),
        "admins see everything"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_test_send_is_excluded_from_analytics_and_no_get_returns_a_secret() {
    let app = spawn_app_with(Options {
        edit: Some(with_users),
        ..Options::default()
    })
    .await;
    let (status, body) = call(
        &app,
        reqwest::Method::POST,
        "/distributions/csat-wa/test",
        Some(ALICE),
        Some(json!({"to": "+34600999222"})),
    )
    .await;
    assert_eq!(status, 202, "{body}");
    let invite_id = body["invite_id"].as_str().unwrap().to_string();
    let invite = eventually(Duration::from_secs(10), || async {
        let (_, invite) = call(
            &app,
            reqwest::Method::GET,
            &format!("/invites/{invite_id}"),
            Some(ALICE),
            None,
        )
        .await;
        (invite["status"] == "opened").then_some(invite)
    })
    .await
    .expect("the test invite is delivered and read");
    assert_eq!(invite["test"], true);
    let (status, analytics) = call(
        &app,
        reqwest::Method::GET,
        "/analytics?survey=csat&group_by=agent",
        Some(ALICE),
        None,
    )
    .await;
    assert_eq!(status, 200, "{analytics}");
    assert_eq!(
        analytics["items"],
        json!([]),
        "test invites are not in analytics"
    );

    let paths: Vec<String> = [
        "/accounts",
        "/surveys",
        "/distributions",
        "/distributions/csat-wa",
        "/invites",
        &format!("/invites/{invite_id}"),
    ]
    .iter()
    .map(|p| p.to_string())
    .collect();
    assert_no_secret_in(&app, &paths, &[]).await;
    let (status, body) = call(
        &app,
        reqwest::Method::POST,
        "/distributions/csat-wa/test",
        Some(ALICE),
        Some(json!({"to": "not a number"})),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["path"], "to");
    app.stop().await;
}

#[tokio::test]
async fn invites_are_shown_only_to_who_may_see_their_survey() {
    let app = spawn_app_with(Options {
        edit: Some(with_users),
        ..Options::default()
    })
    .await;
    let get = reqwest::Method::GET;
    let case = resolved_case("C-8101", "+34600111801");
    let (status, body) = call(
        &app,
        reqwest::Method::PUT,
        "/cases/C-8101",
        Some(DAVE),
        Some(case),
    )
    .await;
    assert_eq!(status, 202, "any user may push case updates: {body}");
    let invite = eventually(Duration::from_secs(10), || async {
        let (_, body) = call(
            &app,
            get.clone(),
            "/invites?case_id=C-8101",
            Some(BOB),
            None,
        )
        .await;
        body["items"].as_array()?.first().cloned()
    })
    .await
    .expect("bob (view_distribution) sees the invite");
    let invite_id = invite["id"].as_str().unwrap();

    let (_, listed) = call(
        &app,
        get.clone(),
        "/invites?case_id=C-8101",
        Some(DAVE),
        None,
    )
    .await;
    assert_eq!(
        listed["items"],
        json!([]),
        "dave has no share: no invites listed"
    );
    let (status, body) = call(
        &app,
        get.clone(),
        &format!("/invites/{invite_id}"),
        Some(DAVE),
        None,
    )
    .await;
    assert_eq!(status, 403, "{body}");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("view_distribution"));
    let (status, case) = call(&app, get.clone(), "/cases/C-8101", Some(DAVE), None).await;
    assert_eq!(status, 200);
    assert_eq!(case["invites"], json!([]), "nor through the case");
    let (_, case) = call(&app, get.clone(), "/cases/C-8101", Some(BOB), None).await;
    assert_eq!(case["invites"].as_array().map(Vec::len), Some(1));
    app.stop().await;
}

/// SPEC §5's pickers: the surveys a caller may distribute, the distributions of a survey
/// that can send; a list refuses a parameter it does not take, naming it.
#[tokio::test]
async fn pickers_filter_by_permission_survey_schedule_and_usable() {
    let app = spawn_app_with(Options {
        edit: Some(with_users),
        ..Options::default()
    })
    .await;
    let get = reqwest::Method::GET;
    let ids = |body: &serde_json::Value| -> Vec<String> {
        body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_str().unwrap().to_string())
            .collect()
    };
    for (token, want) in [(BOB, 0), (CAROL, 1), (ALICE, 1), (DAVE, 0)] {
        let (status, body) = call(
            &app,
            get.clone(),
            "/surveys?permission=edit_distribution",
            Some(token),
            None,
        )
        .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(ids(&body).len(), want, "{token}: {body}");
    }
    let (_, body) = call(
        &app,
        get.clone(),
        "/surveys?permission=view_distribution",
        Some(BOB),
        None,
    )
    .await;
    assert_eq!(ids(&body), ["csat"], "{body}");

    let usable = "/distributions?survey=csat&schedule=trigger_based&usable=true";
    let (status, body) = call(&app, get.clone(), usable, Some(CAROL), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(ids(&body), ["csat-wa"], "{body}");
    for query in ["/distributions?usable=false", "/distributions?survey=other"] {
        let (status, body) = call(&app, get.clone(), query, Some(CAROL), None).await;
        assert_eq!(status, 200, "{body}");
        assert!(ids(&body).is_empty(), "{query}: {body}");
    }

    for (query, parameter) in [
        ("/surveys?permission=own", "permission"),
        ("/distributions?schedule=weekly", "schedule"),
        ("/distributions?usable=maybe", "usable"),
        ("/distributions?colour=red", "colour"),
        ("/rules?survey=csat", "survey"),
        ("/invites?colour=red", "colour"),
    ] {
        let (status, body) = call(&app, get.clone(), query, Some(ALICE), None).await;
        assert_eq!(status, 400, "{query}: {body}");
        assert_eq!(body["error"]["code"], "invalid_query", "{query}: {body}");
        assert_eq!(body["error"]["path"], parameter, "{query}: {body}");
    }
    app.stop().await;
}
