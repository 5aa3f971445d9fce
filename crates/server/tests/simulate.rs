//! `closeloop simulate`: the dry run driven through the binary, as a user would.

mod common;

use std::process::{Command, Output};

use common::*;
use serde_json::json;

fn closeloop(args: &[&str]) -> Output {
    closeloop_in(&std::env::temp_dir(), args)
}

fn closeloop_in(dir: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_closeloop"))
        .current_dir(dir)
        .args(args)
        .env("WA_TOKEN", TOKEN)
        .env("WA_APP_SECRET", APP_SECRET)
        .output()
        .expect("closeloop runs")
}

/// A temp dir with the test config and the given files.
fn files(entries: &[(&str, String)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    // The API base is never called: a dry run has no network.
    let config = config_yaml("http://127.0.0.1:9/v21.0", &Options::default());
    std::fs::write(dir.path().join("closeloop.yaml"), config).expect("config");
    for (name, text) in entries {
        std::fs::write(dir.path().join(name), text).expect("file");
    }
    dir
}

fn path(dir: &tempfile::TempDir, name: &str) -> String {
    dir.path().join(name).display().to_string()
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_resolved_case_shows_the_matched_rule_and_the_rendered_message() {
    let mut before = resolved_case("C-1001", "+34 600 111 222");
    before["status"] = json!("Open");
    let dir = files(&[
        (
            "case.json",
            resolved_case("C-1001", "+34 600 111 222").to_string(),
        ),
        ("old.json", before.to_string()),
    ]);
    let out = closeloop_in(
        dir.path(),
        &[
            "simulate",
            &path(&dir, "closeloop.yaml"),
            "--case",
            &path(&dir, "case.json"),
            "--before",
            &path(&dir, "old.json"),
        ],
    );
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}{stderr}");
    let mut left: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(
        left,
        vec!["case.json", "closeloop.yaml", "old.json"],
        "a dry run creates no database (the default is closeloop.db in the working directory)"
    );
    assert!(stdout.contains("case C-1001 (case_updated)"), "{stdout}");
    assert!(
        stdout.contains("rule invite-on-resolve: MATCHED"),
        "{stdout}"
    );
    assert!(
        stdout.contains("[x] case.status changed_to \"Resolved\" (saw \"Resolved\")"),
        "{stdout}"
    );
    assert!(
        stdout.contains("-> trigger_survey_invitation csat/whatsapp/csat-wa"),
        "{stdout}"
    );
    assert!(
        stdout.contains("to: +34600111222 (from profile.phone)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("language: es (from translation)"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "Hi Ana, your case 1001 is resolved. Tell us how we did: http://closeloop.test/s/<token>"
        ),
        "the message as the customer reads it: {stdout}"
    );
    assert!(stdout.contains("-> move_to_queue survey-sent"), "{stdout}");
}

#[test]
fn a_case_that_does_not_match_shows_the_failed_condition() {
    let mut case = resolved_case("C-2001", "+34600111222");
    case["status"] = json!("Open");
    let dir = files(&[("case.json", case.to_string())]);
    let out = closeloop(&[
        "simulate",
        &path(&dir, "closeloop.yaml"),
        "--case",
        &path(&dir, "case.json"),
    ]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(stdout.contains("case C-2001 (case_created)"), "{stdout}");
    assert!(
        stdout.contains("rule invite-on-resolve: did not match"),
        "{stdout}"
    );
    assert!(
        stdout.contains("[ ] case.status changed_to \"Resolved\" (saw \"Open\")"),
        "{stdout}"
    );
    assert!(!stdout.contains("-> trigger_survey_invitation"), "{stdout}");
}

#[test]
fn an_invalid_recipient_is_shown_with_why() {
    let dir = files(&[(
        "case.json",
        resolved_case("C-3001", "not a phone").to_string(),
    )]);
    let out = closeloop(&[
        "simulate",
        &path(&dir, "closeloop.yaml"),
        "--case",
        &path(&dir, "case.json"),
    ]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(
        stdout.contains("to: invalid (profile.phone:") && stdout.contains("invalid_recipient"),
        "{stdout}"
    );
}

#[test]
fn bad_input_exits_1_naming_the_file_and_field() {
    let dir = files(&[
        (
            "bad.json",
            r#"{"id":"C-1","status":"Open","profile":{"phone":5,"colour":"red"}}"#.into(),
        ),
        ("broken.json", "{not json".into()),
    ]);
    let config = path(&dir, "closeloop.yaml");
    let bad = path(&dir, "bad.json");
    let out = closeloop(&["simulate", &config, "--case", &bad]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(stderr.contains(&bad), "names the file: {stderr}");
    assert!(
        stderr.contains("profile.phone"),
        "names the field: {stderr}"
    );

    let broken = path(&dir, "broken.json");
    let out = closeloop(&["simulate", &config, "--case", &broken]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr.contains(&broken), "{stderr}");

    let missing = path(&dir, "missing.json");
    let out = closeloop(&["simulate", &config, "--case", &missing]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr.contains(&missing), "{stderr}");

    let case = path(&dir, "bad.json");
    let no_config = path(&dir, "nope.yaml");
    let out = closeloop(&["simulate", &no_config, "--case", &case]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr.contains(&no_config), "{stderr}");
}
