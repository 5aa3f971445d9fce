//! The command line: `check`, `demo` and `explain` driven as a user would.

mod common;

use std::process::Command;

use common::*;

fn closeloop(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_closeloop"))
        .args(args)
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .env("WA_TOKEN", TOKEN)
        .env("WA_APP_SECRET", APP_SECRET)
        .output()
        .expect("closeloop runs")
}

fn write_config(dir: &tempfile::TempDir, text: &str) -> String {
    let path = dir.path().join("closeloop.yaml");
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

#[test]
fn check_accepts_the_demo_config() {
    let out = closeloop(&["check", "examples/closeloop.yaml"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("ok: 1 accounts, 1 surveys, 1 distributions, 4 rules"),
        "{stdout}"
    );
}

#[test]
fn check_names_the_file_and_path_of_an_unknown_case_field() {
    let dir = tempfile::tempdir().unwrap();
    let text = config_yaml("http://127.0.0.1:9/v21.0", &Options::default())
        .replace("case.case_type:", "case.colour:");
    let file = write_config(&dir, &text);
    let out = closeloop(&["check", &file]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(&file), "names the file: {stderr}");
    assert!(stderr.contains("rules[0].when"), "names the path: {stderr}");
    assert!(stderr.contains("case.colour"), "names the field: {stderr}");
}

#[test]
fn check_rejects_a_body_params_mismatch_with_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let text = config_yaml("http://127.0.0.1:9/v21.0", &Options::default()).replace(
        r#"body_params: ["{{profile.first_name}}", "{{case.number}}", "{{survey.link}}"]"#,
        r#"body_params: ["{{profile.first_name}}", "{{case.number}}"]"#,
    );
    let out = closeloop(&["check", &write_config(&dir, &text)]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("distributions[0].messages.invitation.body_params"),
        "{stderr}"
    );
}

#[test]
fn check_warns_but_passes_on_two_survey_actions_in_one_rule() {
    let dir = tempfile::tempdir().unwrap();
    let text = config_yaml("http://127.0.0.1:9/v21.0", &Options::default()).replace(
        "      - move_to_queue: survey-sent",
        "      - move_to_queue: survey-sent\n      - send_survey_reminder: { survey: csat, channel: whatsapp, distribution: csat-wa }",
    );
    let out = closeloop(&["check", &write_config(&dir, &text)]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("warning"), "{stdout}");
    assert!(stdout.contains("rules[0]"), "{stdout}");
}

#[test]
fn check_reports_per_language_bodies_and_page_texts_by_path() {
    let dir = tempfile::tempdir().unwrap();
    let base = config_yaml("http://127.0.0.1:9/v21.0", &Options::default());
    let out = closeloop(&["check", &write_config(&dir, &base)]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "one body for every language is legal: {stdout}"
    );
    assert!(
        stdout.contains("distributions[0].messages.invitation.body")
            && stdout.contains("previews and the sandbox show this text for es, pt_BR"),
        "{stdout}"
    );

    let wrong = base
        .replacen(
            r#"body: "Reminder: {{1}}""#,
            r#"body: { en: "Reminder: {{1}}", es: "Recordatorio", pt_BR: "Lembrete: {{1}}", fr: "Rappel : {{1}}" }"#,
            1,
        )
        .replacen(
            "    languages: [en, es, pt_BR]\n",
            "    languages: [en, es, pt_BR]\n    page_texts: { es: { sbumit: Enviar } }\n",
            1,
        );
    let file = write_config(&dir, &wrong);
    let out = closeloop(&["check", &file]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(&file), "names the file: {stderr}");
    for path in [
        "distributions[0].messages.reminder.body.es",
        "distributions[0].messages.reminder.body.fr",
        "surveys[0].page_texts.es.sbumit",
    ] {
        assert!(stderr.contains(path), "{path}: {stderr}");
    }
}

#[test]
fn check_warns_when_a_language_would_show_the_page_in_english() {
    let dir = tempfile::tempdir().unwrap();
    let text = config_yaml("http://127.0.0.1:9/v21.0", &Options::default())
        .replacen(
            "languages: [en, es, pt_BR]",
            "languages: [en, es, pt_BR, ja]",
            1,
        )
        .replace(
            "languages: { en: en_US, es: es, pt_BR: pt_BR }",
            "languages: { en: en_US, es: es, pt_BR: pt_BR, ja: ja }",
        );
    let out = closeloop(&["check", &write_config(&dir, &text)]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("surveys[0].page_texts.ja") && stdout.contains("show in English"),
        "{stdout}"
    );
}

#[test]
fn check_names_a_missing_environment_variable() {
    let dir = tempfile::tempdir().unwrap();
    let text = config_yaml("http://127.0.0.1:9/v21.0", &Options::default())
        .replace("${WA_TOKEN}", "${WA_TOKEN_MISSING_IN_TEST}");
    let out = closeloop(&["check", &write_config(&dir, &text)]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr.contains("WA_TOKEN_MISSING_IN_TEST"), "{stderr}");
}

/// The CPU time a process has used (user and system, all threads), from `/proc`.
/// The demo tests each run a whole service at full speed; the idle-CPU measurement means
/// something only while no other demo loads the machine, so they take turns.
static ONE_DEMO_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn cpu_time(pid: u32) -> std::time::Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("/proc/PID/stat");
    // The fields after the command name (which may hold spaces) in parentheses.
    let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..].split(' ').collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    let per_second: u64 = Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100);
    std::time::Duration::from_millis(ticks * 1000 / per_second)
}

fn rfc3339_ms(text: &str) -> i128 {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .unwrap()
        .unix_timestamp_nanos()
        / 1_000_000
}

/// The demo's scenario and summary, then (SPEC §2) the service on the real clock: the
/// printed survey links and the console answer after an idle spell, the links keep days of
/// their lifetime, and the idle service uses next to no CPU.
#[tokio::test]
async fn demo_shows_the_whole_lifecycle_then_serves_on_the_real_clock() {
    let _alone = ONE_DEMO_AT_A_TIME.lock().await;
    let tmp = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_closeloop"))
        .args([
            "demo",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--stop-after",
            "5m",
        ])
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .env("TMPDIR", tmp.path())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("closeloop runs");
    let pid = child.id();
    let reader = std::io::BufReader::new(child.stdout.take().unwrap());
    let (stdout, reader) = tokio::task::spawn_blocking(move || {
        let mut lines = std::io::BufRead::lines(reader);
        let mut stdout = String::new();
        for line in lines.by_ref() {
            let line = line.unwrap();
            stdout.push_str(&line);
            stdout.push('\n');
            if line.starts_with("The clock runs at real speed again") {
                break;
            }
        }
        (stdout, lines)
    })
    .await
    .unwrap();
    let line = |case: &str| {
        stdout
            .lines()
            .find(|l| l.starts_with(case))
            .unwrap_or_else(|| panic!("no row for {case}: {stdout}"))
            .to_string()
    };
    let row = line("C-1001");
    assert!(
        row.contains("completed") && row.contains("invitation, thank_you"),
        "{stdout}"
    );
    assert!(
        line("C-1002").contains("invitation, reminder, reminder"),
        "{stdout}"
    );
    assert!(line("C-1003").contains("no rule matched"), "{stdout}");
    assert!(line("C-1004").contains("invalid_recipient"), "{stdout}");
    assert!(line("C-1005").contains("quarantined"), "{stdout}");
    assert!(line("C-1006").contains("suppressed"), "{stdout}");
    assert!(
        line("C-1007").contains("recovery") && line("C-1007").contains("pt_BR"),
        "{stdout}"
    );
    assert!(line("C-1008").contains("unsubscribed"), "{stdout}");
    assert!(line("C-1009").contains("partially_completed"), "{stdout}");
    assert!(
        stdout.contains("Hola Ana, su caso 1001 está resuelto."),
        "each customer reads their own language: {stdout}"
    );
    assert!(
        stdout.contains("Hi John, your case 1002 is resolved."),
        "{stdout}"
    );
    assert!(
        stdout.contains("Olá João, seu caso 1007 foi resolvido."),
        "{stdout}"
    );
    let base = format!("http://127.0.0.1:{port}");
    assert!(
        stdout.contains(&format!(
            "The operator console:   {base}/console (open without sign-in"
        )),
        "{stdout}"
    );
    let links: Vec<&str> = stdout
        .split_whitespace()
        .filter(|w| w.starts_with(&format!("{base}/s/")))
        .collect();
    assert!(
        links.len() >= 3,
        "the summary prints the survey links: {stdout}"
    );

    // A client must let pooled connections go before the server's idle timeout (60 s) closes
    // them, or a request sent on one as it closes fails: the idle spell below is 60 s.
    let http = reqwest::Client::builder()
        .pool_idle_timeout(std::time::Duration::from_secs(30))
        .build()
        .unwrap();
    let suppress = |phone: &'static str| {
        let http = http.clone();
        let url = format!("{base}/api/v1/suppressions");
        async move {
            let answer: serde_json::Value = http
                .post(url)
                .json(&serde_json::json!({"phone": phone}))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            rfc3339_ms(answer["created_at"].as_str().unwrap())
        }
    };
    let idle = std::time::Duration::from_secs(60);
    let cpu_before = cpu_time(pid);
    let clock_before = suppress("+34600999001").await;
    tokio::time::sleep(idle).await;
    let cpu_used = cpu_time(pid) - cpu_before;
    let clock_after = suppress("+34600999002").await;
    let clock_passed = clock_after - clock_before;
    assert!(
        (55_000..90_000).contains(&clock_passed),
        "the service clock is real time again: {clock_passed} ms passed in {idle:?}"
    );
    eprintln!("demo idle: {cpu_used:?} of CPU in {idle:?}");
    assert!(
        cpu_used < idle / 20,
        "the idle demo keeps no CPU busy: {cpu_used:?} in {idle:?}"
    );
    for link in &links {
        let status = http.get(*link).send().await.unwrap().status();
        assert_eq!(status, 200, "{link} is still open after the idle spell");
    }
    let invites: serde_json::Value = http
        .get(format!("{base}/api/v1/invites?case_id=C-1002"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let expires = rfc3339_ms(invites["items"][0]["expires_at"].as_str().unwrap());
    assert!(
        expires - clock_after > 24 * 3600 * 1000,
        "the links stay open for days of real time: {invites}"
    );
    let console = http.get(format!("{base}/console")).send().await.unwrap();
    assert_eq!(
        console.status(),
        200,
        "no users: the console is open on loopback"
    );
    assert!(console.text().await.unwrap().contains("<title>Overview of"));

    assert!(Command::new("kill")
        .arg(pid.to_string())
        .status()
        .unwrap()
        .success());
    let status = tokio::task::spawn_blocking(move || {
        reader.for_each(drop);
        child.wait().unwrap()
    })
    .await
    .unwrap();
    assert!(status.success(), "the demo stops on SIGTERM");
}

#[tokio::test]
async fn explain_prints_the_trace_of_a_case_from_a_running_server() {
    let app = spawn_app().await;
    let mut case = resolved_case("C-8001", "+34600111222");
    case["status"] = serde_json::json!("Open");
    app.put_case(&case).await;
    app.settled("C-8001").await;
    let url = app.url.clone();
    let out =
        tokio::task::spawn_blocking(move || closeloop(&["explain", "C-8001", "--server", &url]))
            .await
            .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout.contains("rule invite-on-resolve: did not match"),
        "{stdout}"
    );
    assert!(
        stdout.contains("case.status changed_to \"Resolved\" (saw \"Open\")"),
        "{stdout}"
    );

    let missing = tokio::task::spawn_blocking({
        let url = app.url.clone();
        move || closeloop(&["explain", "C-none", "--server", &url])
    })
    .await
    .unwrap();
    assert_eq!(missing.status.code(), Some(1));
    app.stop().await;
}

#[test]
fn serve_refuses_a_non_loopback_address_without_users() {
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}", dir.path().join("refuse.db").display());
    let out = closeloop(&[
        "serve",
        "--config",
        "examples/closeloop.yaml",
        "--database",
        &database,
        "--listen",
        "0.0.0.0:0",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("refusing to listen on 0.0.0.0:0 with no users configured"),
        "{stderr}"
    );
}

#[test]
fn migrate_creates_the_schema_and_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}", dir.path().join("migrate.db").display());
    for _ in 0..2 {
        let out = closeloop(&["migrate", "--database", &database]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stdout).contains("migrations applied"));
    }
    assert!(dir.path().join("migrate.db").exists());
    let bad = closeloop(&["migrate", "--database", "mysql://nowhere/db"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unsupported database URL"));
}

/// SPEC §4.17: storage grows with what happened, not with time. Ten minutes of the demo at
/// its default speed (14,400×) are 100 days of clock time; this runs the same 100 days at
/// ten times that speed in one minute (`--keep-speed`: the clock stays accelerated after
/// the summary), and watches the demo's database files from outside.
#[test]
fn the_demo_database_stays_small_over_ten_minutes_of_demo_time() {
    let _alone = ONE_DEMO_AT_A_TIME.blocking_lock();
    let tmp = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_closeloop"))
        .args([
            "demo",
            "--listen",
            "127.0.0.1:0",
            "--speed",
            "144000",
            "--keep-speed",
            "--stop-after",
            "60s",
        ])
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .env("TMPDIR", tmp.path())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("closeloop runs");
    let database_bytes = || -> u64 {
        let Ok(dirs) = std::fs::read_dir(tmp.path()) else {
            return 0;
        };
        dirs.flatten()
            .flat_map(|dir| {
                std::fs::read_dir(dir.path())
                    .into_iter()
                    .flatten()
                    .flatten()
            })
            .filter(|f| f.file_name().to_string_lossy().starts_with("demo.db"))
            .filter_map(|f| f.metadata().ok())
            .map(|m| m.len())
            .sum()
    };
    let started = std::time::Instant::now();
    let mut largest = 0;
    let mut at_half_time = 0;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        let bytes = database_bytes();
        largest = largest.max(bytes);
        if started.elapsed() < std::time::Duration::from_secs(40) {
            at_half_time = bytes;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(180),
            "the demo did not stop after --stop-after 60s"
        );
        std::thread::sleep(std::time::Duration::from_millis(500));
    };
    let mut stdout = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take().unwrap(), &mut stdout).unwrap();
    assert!(status.success(), "{stdout}");
    assert!(stdout.contains("C-1001"), "the scenario ran: {stdout}");
    assert!(
        largest > 0 && largest < 5_000_000,
        "the demo's database reached {largest} bytes"
    );
    eprintln!("demo database: {at_half_time} bytes at about 60 days, at most {largest} bytes over 100 days");
}

/// `closeloop check` on `text`, timed, with the peak resident memory it reached (sampled
/// from `/proc` while it runs: a high-water mark, so a bomb that expanded would show).
fn check_text(text: &str) -> (std::process::Output, std::time::Duration, u64) {
    let dir = tempfile::tempdir().unwrap();
    let file = write_config(&dir, text);
    let started = std::time::Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_closeloop"))
        .args(["check", &file])
        .env("WA_TOKEN", TOKEN)
        .env("WA_APP_SECRET", APP_SECRET)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("closeloop runs");
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak_kib = 0;
    while child.try_wait().unwrap().is_none() {
        let status = std::fs::read_to_string(&status_file).unwrap_or_default();
        if let Some(kib) = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        {
            peak_kib = peak_kib.max(kib);
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    let out = child.wait_with_output().unwrap();
    (out, started.elapsed(), peak_kib)
}

/// The bounded-resource checks allow a debug build on a busy machine 5 s; the release
/// build judges each of these files in a fraction of a second (README, "Config limits").
const JUDGED_WITHIN: std::time::Duration = std::time::Duration::from_secs(5);

#[test]
fn check_refuses_deep_nesting_quickly() {
    let flow = format!("rules: {}{}\n", "[".repeat(100_000), "]".repeat(100_000));
    let block: String = (0..700)
        .map(|i| format!("{}a:\n", "  ".repeat(i)))
        .collect();
    for (what, text) in [("100,000 levels of [", flow), ("700 nested keys", block)] {
        let (out, took, _) = check_text(&text);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{what}: {stderr}");
        assert!(
            stderr.contains("nested deeper than 64 levels") || stderr.contains("recursion limit"),
            "{what}: {stderr}"
        );
        assert!(stderr.contains("at line "), "{what}: {stderr}");
        assert!(took < JUDGED_WITHIN, "{what}: judged in {took:?}");
    }
}

#[test]
fn check_refuses_an_alias_bomb_quickly_in_bounded_memory() {
    // A billion laughs: ten levels of nine aliases each stand for 9^10 strings.
    let mut text = String::from("a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for level in 1..10u8 {
        let (name, previous) = ((b'a' + level) as char, (b'a' + level - 1) as char);
        let aliases = vec![format!("*{previous}"); 9].join(", ");
        text.push_str(&format!("{name}: &{name} [{aliases}]\n"));
    }
    text.push_str("rules: *j\n");
    let (out, took, peak_kib) = check_text(&text);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("aliases (*name) repeat more than 100000 values"),
        "{stderr}"
    );
    assert!(took < JUDGED_WITHIN, "judged in {took:?}");
    assert!(peak_kib < 150 * 1024, "peak resident memory {peak_kib} KiB");
}

#[test]
fn check_judges_a_megabyte_of_values_quickly() {
    let mut values = String::from("opt_out_words:\n");
    while values.len() < 1_000_000 {
        values.push_str("  - stop\n");
    }
    let mut keys = String::from("retention:\n");
    let mut i = 0;
    while keys.len() < 1_000_000 {
        keys.push_str(&format!("  k{i}: v\n"));
        i += 1;
    }
    for (what, text) in [
        ("a list of 111,000 words", values),
        ("a map of 83,000 keys", keys),
    ] {
        let (out, took, _) = check_text(&text);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "{what}: judged, not crashed: {stderr}"
        );
        assert!(took < JUDGED_WITHIN, "{what}: judged in {took:?}");
    }
}

#[test]
fn check_refuses_an_empty_file_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    for text in ["", "\n  \n", "# nothing but a comment\n"] {
        let file = write_config(&dir, text);
        let out = closeloop(&["check", &file]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{text:?}: {stderr}");
        assert!(
            stderr.contains(&format!("{file}: error: the config is empty")),
            "{text:?}: {stderr}"
        );
    }
}

#[test]
fn check_names_the_line_of_a_yaml_syntax_error() {
    let dir = tempfile::tempdir().unwrap();
    let text = config_yaml("http://127.0.0.1:9/v21.0", &Options::default());
    let line = text
        .lines()
        .position(|l| l == "    on: case_update")
        .unwrap()
        + 1;
    let broken = text.replacen("    on: case_update\n", "    on: case_update: oops\n", 1);
    let file = write_config(&dir, &broken);
    let out = closeloop(&["check", &file]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(&file), "names the file: {stderr}");
    assert!(
        stderr.contains(&format!("at line {line}, column")),
        "names line {line}: {stderr}"
    );
}

/// `closeloop … | head`: the reader is gone before the command writes. The command ends as
/// a Unix filter does, quietly and successfully, without a panic or a backtrace.
fn into_a_closed_pipe(args: &[&str]) -> std::process::Output {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    Command::new(env!("CARGO_BIN_EXE_closeloop"))
        .args(args)
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .env("WA_TOKEN", TOKEN)
        .env("WA_APP_SECRET", APP_SECRET)
        .env("RUST_BACKTRACE", "1")
        .stdout(writer)
        .output()
        .expect("closeloop runs")
}

#[tokio::test]
async fn output_into_a_closed_pipe_ends_quietly() {
    let app = spawn_app().await;
    app.put_case(&resolved_case("C-8002", "+34600111222")).await;
    app.settled("C-8002").await;
    let url = app.url.clone();
    let commands: Vec<Vec<String>> = vec![
        vec!["explain".into(), "C-8002".into(), "--server".into(), url],
        vec!["check".into(), "examples/closeloop.yaml".into()],
        vec!["--help".into()],
    ];
    for args in commands {
        let out = tokio::task::spawn_blocking({
            let args = args.clone();
            move || into_a_closed_pipe(&args.iter().map(String::as_str).collect::<Vec<_>>())
        })
        .await
        .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(out.status.success(), "{args:?}: {:?} {stderr}", out.status);
    }
    app.stop().await;
}

/// SPEC §3.3: `recipient_*` and `use_last_message_language` on a reminder or thank-you are
/// a lint warning (they go to the invite's recipient in its language), shown with errors too.
#[test]
fn check_warns_about_invite_options_on_a_reminder_even_beside_errors() {
    let dir = tempfile::tempdir().unwrap();
    let text = config_yaml("http://127.0.0.1:9/v21.0", &Options::default()).replace(
        "      - move_to_queue: survey-sent",
        "      - move_to_queue: survey-sent\n      - send_survey_reminder: { survey: csat, channel: whatsapp, distribution: csat-wa, recipient_case_field: alt_phone, use_last_message_language: true }",
    );
    let out = closeloop(&["check", &write_config(&dir, &text)]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    for key in ["recipient_case_field", "use_last_message_language"] {
        assert!(
            stdout.contains(&format!(
                "warning: rules[0].then[2].send_survey_reminder.{key}: {key} has no effect"
            )),
            "{key}: {stdout}"
        );
    }

    let broken = format!(
        "{text}\n  - id: broken\n    on: case_update\n    when: {{ case.colour: x }}\n    then: [ {{ add_tag: x }} ]\n"
    );
    let out = closeloop(&["check", &write_config(&dir, &broken)]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("case.colour"),
        "the error"
    );
    assert!(
        stdout.contains("send_survey_reminder.recipient_case_field"),
        "and the lint: {stdout}"
    );
}
