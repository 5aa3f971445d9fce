//! `closeloop import`: 100,000 NDJSON lines through the binary into a running service,
//! with malformed lines at known positions reported by their line in the file.

mod common;

use std::fmt::Write as _;
use std::process::{Command, Output};
use std::time::Instant;

use common::*;

const LINES: usize = 100_000;
/// Line numbers (1-based) of the lines that must be rejected, with what they hold.
const MALFORMED: [(usize, &str); 4] = [
    (7, "this is not json"),
    (25_000, r#"{"id":"IMP-X","status":5}"#),
    (50_001, r#"{"status":"Open"}"#),
    (99_999, r#"{"id":"IMP-Y","status":"Open","colour":"red"}"#),
];
const BLANK: usize = 60_000;

/// Line `n` of the file: an Open case (the rule fires on Resolved, so nothing is sent).
/// The last line repeats the first, so it is accepted unchanged.
fn line(n: usize) -> String {
    let n = if n == LINES { 1 } else { n };
    format!(
        r#"{{"id":"IMP-{n}","number":"{n}","status":"Open","case_type":"billing","assignee":"agent-{}","profile":{{"first_name":"Ana","phone":"+3460{n:07}"}}}}"#,
        n % 7
    )
}

fn write_file(dir: &tempfile::TempDir) -> String {
    let mut text = String::with_capacity(LINES * 160);
    for n in 1..=LINES {
        if n == BLANK {
            text.push('\n');
        } else if let Some((_, bad)) = MALFORMED.iter().find(|(at, _)| *at == n) {
            let _ = writeln!(text, "{bad}");
        } else {
            let _ = writeln!(text, "{}", line(n));
        }
    }
    let path = dir.path().join("cases.ndjson");
    std::fs::write(&path, text).expect("write the file");
    path.display().to_string()
}

async fn import(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_closeloop"))
            .arg("import")
            .args(&args)
            .output()
            .expect("closeloop runs")
    })
    .await
    .expect("the import finishes")
}

#[tokio::test]
async fn a_large_file_is_imported_with_exact_counts_and_file_line_numbers() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let file = write_file(&dir);
    let started = Instant::now();
    let out = import(vec![file.clone(), "--server".into(), app.url.clone()]).await;
    let took = started.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}{stderr}");
    eprintln!("imported {LINES} lines in {took:?}: {stdout}");

    let read = LINES - 1; // the blank line is skipped
    let rejected = MALFORMED.len();
    let accepted = read - rejected;
    let first = stdout.lines().next().unwrap_or_default();
    assert!(
        first.starts_with(&format!(
            "{file}: {read} lines read, {accepted} accepted ({} changed, 1 unchanged), {rejected} rejected",
            accepted - 1
        )),
        "{stdout}"
    );
    assert!(stdout.contains("1 blank lines skipped"), "{stdout}");
    for (n, _) in MALFORMED {
        assert!(
            stdout.contains(&format!("  line {n}: ")),
            "line {n} is reported: {stdout}"
        );
    }
    assert!(
        stdout.contains("line 7: invalid_json"),
        "why line 7 was rejected: {stdout}"
    );
    assert!(
        stdout.contains("line 25000: invalid_field") && stdout.contains("(at status)"),
        "{stdout}"
    );
    assert!(stdout.contains("line 99999: invalid_field"), "{stdout}");
    assert!(!stderr.contains("error"), "{stderr}");

    for n in [1, 8, 24_999, 50_002, 99_998] {
        let (status, case) = app.get_json(&format!("/cases/IMP-{n}")).await;
        assert_eq!(status, 200, "IMP-{n}: {case}");
        assert_eq!(case["case"]["number"], n.to_string());
        assert_eq!(case["case"]["assignee"], format!("agent-{}", n % 7));
    }
    assert_eq!(app.get_json("/cases/IMP-X").await.0, 404);
    assert_eq!(app.get_json("/cases/IMP-Y").await.0, 404);
    assert!(app.mock.received().is_empty(), "Open cases send nothing");
    app.stop().await;
}

#[tokio::test]
async fn small_batches_map_line_numbers_back_to_the_file() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("few.ndjson");
    let text = format!(
        "{}\n\n{}\n{{\"id\":\n{}\r\n{}\n",
        line(1),
        line(2),
        line(3),
        line(1)
    );
    std::fs::write(&path, text).expect("write");
    let file = path.display().to_string();
    let out = import(vec![
        file.clone(),
        "--server".into(),
        app.url.clone(),
        "--batch".into(),
        "2".into(),
    ])
    .await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout.starts_with(&format!(
            "{file}: 5 lines read, 4 accepted (3 changed, 1 unchanged), 1 rejected"
        )),
        "{stdout}"
    );
    assert!(stdout.contains("  line 4: invalid_json"), "{stdout}");
    app.stop().await;
}

#[tokio::test]
async fn an_unreachable_server_exits_1() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("one.ndjson");
    std::fs::write(&path, format!("{}\n", line(1))).expect("write");
    // Bind and drop a listener so the port is closed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port");
    let out = import(vec![
        path.display().to_string(),
        "--server".into(),
        format!("http://127.0.0.1:{port}"),
    ])
    .await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("cannot reach"), "{stderr}");
}
