//! The case JSON and the merge patch (issue 14): any body a helpdesk could send to
//! `PUT /cases/{id}` or `PATCH /cases/{id}` is answered 2xx, or 4xx in the JSON error
//! shape, never 5xx, and the service keeps serving. Case-shaped objects whose fields hold
//! values of every type reach past the JSON parser into the case checks. The case count is
//! fixed, so the run is bounded.

mod common;

use common::*;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{json, Value};

const CASE_KEYS: &[&str] = &[
    "id",
    "number",
    "status",
    "priority",
    "case_type",
    "queue",
    "assignee",
    "region",
    "tags",
    "custom",
    "profile",
    "conversation",
    "name",
    "first_name",
    "phone",
    "language",
    "account",
    "alt_phone",
    "mobile",
];

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        "\\PC{0,16}".prop_map(Value::from),
        Just(json!("Resolved")),
        Just(json!("+34600111222")),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(CASE_KEYS), inner), 0..6).prop_map(|kv| {
                Value::Object(kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
            }),
        ]
    })
}

/// An object with the case's own keys at the top, holding any values.
fn case_like() -> impl Strategy<Value = Value> {
    prop::collection::vec((prop::sample::select(CASE_KEYS), any_json()), 0..10)
        .prop_map(|kv| Value::Object(kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect()))
}

fn body_of(value: &Value, cut: bool) -> Vec<u8> {
    let bytes = value.to_string().into_bytes();
    if cut {
        // Cut short: no longer JSON, and maybe not UTF-8 either.
        bytes[..bytes.len() / 2].to_vec()
    } else {
        bytes
    }
}

async fn answered_well(response: reqwest::Response) -> Result<(), TestCaseError> {
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    prop_assert!(status < 500, "{status}: {body}");
    if status >= 400 {
        prop_assert!(
            body["error"]["code"].is_string(),
            "{status} without the error shape: {body}"
        );
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn any_case_body_or_merge_patch_is_answered_2xx_or_4xx_never_5xx() {
    let app = spawn_app().await;
    app.put_case(&resolved_case("C-1", "+34600111222")).await;
    let http = app.http.clone();
    let url = app.url.clone();
    let runtime = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || {
        let strategy = (case_like(), any_json(), any::<bool>(), any::<bool>());
        let mut runner = TestRunner::new(Config {
            cases: 256,
            failure_persistence: None,
            ..Config::default()
        });
        runner
            .run(&strategy, |(case, patch, cut_case, cut_patch)| {
                runtime.block_on(async {
                    let put = http
                        .put(format!("{url}/api/v1/cases/P-1"))
                        .header("content-type", "application/json")
                        .body(body_of(&case, cut_case))
                        .send()
                        .await
                        .expect("PUT reaches the service");
                    answered_well(put).await?;
                    let patched = http
                        .patch(format!("{url}/api/v1/cases/C-1"))
                        .header("content-type", "application/merge-patch+json")
                        .body(body_of(&patch, cut_patch))
                        .send()
                        .await
                        .expect("PATCH reaches the service");
                    answered_well(patched).await
                })
            })
            .unwrap_or_else(|e| panic!("{e}"));
    })
    .await
    .expect("the properties ran");
    let (status, _) = app.get_json("/cases/C-1").await;
    assert_eq!(status, 200, "the service still serves the case it had");
    app.stop().await;
}
