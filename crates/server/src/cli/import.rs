//! `closeloop import FILE.ndjson [--server URL] [--token T] [--batch 1000]`: bulk case
//! updates through `POST /api/v1/cases:batch`, with a progress bar and a summary.
//!
//! The file is streamed, never held whole: lines are sent in chunks of `--batch`, one
//! request at a time and in file order, so two updates of one case apply in the order the
//! file has them. The server answers per line with line numbers relative to the chunk's
//! body; they are mapped back to the file's line numbers for the summary. Blank lines are
//! skipped (the server would skip them too); a line that is not UTF-8 is rejected here,
//! since one such line would make the server refuse its whole chunk.

use std::fmt::Write as _;
use std::io::{BufRead, BufReader, IsTerminal};
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::Value;

/// How many rejected lines the summary lists one by one.
const MAX_LISTED: usize = 100;
/// Attempts per chunk when the server cannot be reached or answers 5xx/429. A chunk is one
/// transaction on the server, and resending a case state that was stored is a no-op, so
/// a retry cannot apply anything twice.
const ATTEMPTS: u32 = 4;
/// Longest wait for one chunk's answer.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);

/// Where the import goes.
pub(crate) struct Target<'a> {
    /// Base URL of the server.
    pub(crate) server: &'a str,
    /// API token, when the server has users.
    pub(crate) token: Option<&'a str>,
    /// Lines per request.
    pub(crate) batch: usize,
}

/// One rejected line of the file.
#[derive(Debug)]
struct Rejected {
    line: usize,
    reason: String,
}

/// The running totals.
#[derive(Debug, Default)]
struct Summary {
    read: usize,
    blank: usize,
    changed: usize,
    unchanged: usize,
    rejected: Vec<Rejected>,
}

/// The lines of one request: the NDJSON body and each body line's file line number.
#[derive(Default)]
struct Chunk {
    body: String,
    lines: Vec<usize>,
}

/// Why an import stopped before the end of the file.
enum Stop {
    /// The server could not be reached or kept failing.
    Unreachable(String),
    /// The server refused the credentials; nothing more can be sent.
    Refused(String),
}

/// Runs the import; exit 0 when every line was sent (rejections are in the summary), 1
/// when the file cannot be read or the server cannot be reached.
pub(crate) async fn run(file: &Path, target: &Target<'_>) -> anyhow::Result<ExitCode> {
    let opened =
        std::fs::File::open(file).with_context(|| format!("{}: cannot open", file.display()))?;
    let size = opened.metadata().map(|m| m.len()).unwrap_or(0);
    let mut reader = BufReader::with_capacity(1 << 20, opened);
    let client = reqwest::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .build()
        .context("cannot build the HTTP client")?;
    let url = format!("{}/api/v1/cases:batch", target.server.trim_end_matches('/'));
    let progress = progress_bar(size);
    let started = Instant::now();
    let batch = target.batch.max(1);

    let mut summary = Summary::default();
    let mut chunk = Chunk::default();
    let mut raw = Vec::new();
    let mut number = 0;
    let mut stop = None;
    loop {
        raw.clear();
        let n = reader
            .read_until(b'\n', &mut raw)
            .with_context(|| format!("{}: cannot read line {}", file.display(), number + 1))?;
        if n == 0 {
            break;
        }
        number += 1;
        progress.inc(n as u64);
        let line = trim_newline(&raw);
        if line.iter().all(u8::is_ascii_whitespace) {
            summary.blank += 1;
            continue;
        }
        summary.read += 1;
        match std::str::from_utf8(line) {
            Ok(text) => {
                chunk.body.push_str(text);
                chunk.body.push('\n');
                chunk.lines.push(number);
            }
            Err(_) => summary.rejected.push(Rejected {
                line: number,
                reason: "invalid_body: the line is not UTF-8".into(),
            }),
        }
        if chunk.lines.len() >= batch {
            let full = std::mem::take(&mut chunk);
            if let Err(s) = send(&client, &url, target.token, full, &mut summary).await {
                stop = Some(s);
                break;
            }
            progress.set_message(format!("{} lines", summary.read));
        }
    }
    if stop.is_none() && !chunk.lines.is_empty() {
        if let Err(s) = send(&client, &url, target.token, chunk, &mut summary).await {
            stop = Some(s);
        }
    }
    progress.finish_and_clear();
    print!(
        "{}",
        render(file, &summary, started.elapsed(), stop.is_some())
    );
    match stop {
        None => Ok(ExitCode::SUCCESS),
        Some(Stop::Unreachable(why)) => {
            eprintln!(
                "closeloop import: stopped after line {}: cannot reach {}: {why}",
                last_sent_line(&summary),
                target.server
            );
            Ok(ExitCode::FAILURE)
        }
        Some(Stop::Refused(why)) => {
            eprintln!("closeloop import: the server refused the import: {why}");
            Ok(ExitCode::FAILURE)
        }
    }
}

fn progress_bar(size: u64) -> ProgressBar {
    // Hidden when stderr is not a terminal, so logs and CI output stay clean.
    let target = if std::io::stderr().is_terminal() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let bar = ProgressBar::with_draw_target(Some(size), target);
    let style = ProgressStyle::with_template(
        "{bar:40} {percent:>3}% {binary_bytes}/{binary_total_bytes} {msg} ({eta} left)",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar
}

fn trim_newline(raw: &[u8]) -> &[u8] {
    let raw = raw.strip_suffix(b"\n").unwrap_or(raw);
    raw.strip_suffix(b"\r").unwrap_or(raw)
}

/// The file line the summary's counts go up to (for the message after a stop).
fn last_sent_line(summary: &Summary) -> usize {
    summary.read + summary.blank
}

/// Sends one chunk (retrying while the server is unreachable) and adds its results.
async fn send(
    client: &reqwest::Client,
    url: &str,
    token: Option<&str>,
    chunk: Chunk,
    summary: &mut Summary,
) -> Result<(), Stop> {
    let mut delay = Duration::from_millis(250);
    let mut attempt = 1;
    let (status, body) = loop {
        let mut request = client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/x-ndjson")
            .body(chunk.body.clone());
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let failure = match request.send().await {
            Ok(response) => {
                let status = response.status();
                match response.text().await {
                    Ok(text) if !(status.is_server_error() || status.as_u16() == 429) => {
                        break (status, text)
                    }
                    Ok(_) => format!("the server answered {status}"),
                    Err(e) => e.to_string(),
                }
            }
            Err(e) => e.to_string(),
        };
        if attempt >= ATTEMPTS {
            return Err(Stop::Unreachable(failure));
        }
        attempt += 1;
        tokio::time::sleep(delay).await;
        delay *= 2;
    };
    let answer: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    if matches!(status.as_u16(), 401 | 403) {
        return Err(Stop::Refused(format!("{status}: {}", error_text(&answer))));
    }
    if !status.is_success() {
        // The whole chunk was refused (too large, not NDJSON…): each of its lines is.
        let reason = format!("{status}: {}", error_text(&answer));
        summary
            .rejected
            .extend(chunk.lines.iter().map(|&line| Rejected {
                line,
                reason: reason.clone(),
            }));
        return Ok(());
    }
    let Some(results) = answer["results"].as_array() else {
        return Err(Stop::Unreachable(
            "the server's answer has no per-line results".into(),
        ));
    };
    for result in results {
        let file_line = result["line"]
            .as_u64()
            .and_then(|l| usize::try_from(l).ok())
            .and_then(|l| l.checked_sub(1))
            .and_then(|i| chunk.lines.get(i).copied())
            .unwrap_or(0);
        match result["status"].as_u64() {
            Some(202) => summary.changed += 1,
            Some(200) => summary.unchanged += 1,
            _ => summary.rejected.push(Rejected {
                line: file_line,
                reason: error_text(result),
            }),
        }
    }
    Ok(())
}

/// `code: message (at path)` of an API error body.
fn error_text(body: &Value) -> String {
    let error = &body["error"];
    let mut text = format!(
        "{}: {}",
        error["code"].as_str().unwrap_or("error"),
        error["message"].as_str().unwrap_or("rejected")
    );
    if let Some(path) = error["path"].as_str() {
        let _ = write!(text, " (at {path})");
    }
    text
}

/// The summary as printed.
fn render(file: &Path, summary: &Summary, took: Duration, stopped: bool) -> String {
    let accepted = summary.changed + summary.unchanged;
    let mut out = String::new();
    let secs = took.as_secs_f64();
    let rate = if secs > 0.0 {
        summary.read as f64 / secs
    } else {
        0.0
    };
    let _ = writeln!(
        out,
        "{}: {} lines read, {accepted} accepted ({} changed, {} unchanged), {} rejected, in {secs:.1} s ({rate:.0} lines/s)",
        file.display(),
        summary.read,
        summary.changed,
        summary.unchanged,
        summary.rejected.len(),
    );
    if summary.blank > 0 {
        let _ = writeln!(out, "{} blank lines skipped", summary.blank);
    }
    if stopped {
        let _ = writeln!(
            out,
            "stopped early: lines after the last accepted chunk were not sent"
        );
    }
    let mut rejected: Vec<&Rejected> = summary.rejected.iter().collect();
    rejected.sort_by_key(|r| r.line);
    if !rejected.is_empty() {
        let _ = writeln!(out, "rejected lines:");
    }
    for r in rejected.iter().take(MAX_LISTED) {
        let _ = writeln!(out, "  line {}: {}", r.line, r.reason);
    }
    if rejected.len() > MAX_LISTED {
        let _ = writeln!(out, "  … and {} more", rejected.len() - MAX_LISTED);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newline_and_carriage_return_are_trimmed() {
        assert_eq!(trim_newline(b"{}\r\n"), b"{}");
        assert_eq!(trim_newline(b"{}"), b"{}");
    }

    #[test]
    fn summary_lists_rejected_lines_in_file_order() {
        let summary = Summary {
            read: 5,
            blank: 1,
            changed: 2,
            unchanged: 1,
            rejected: vec![
                Rejected {
                    line: 9,
                    reason: "invalid_field: x".into(),
                },
                Rejected {
                    line: 3,
                    reason: "invalid_json: y".into(),
                },
            ],
        };
        let text = render(
            Path::new("f.ndjson"),
            &summary,
            Duration::from_secs(1),
            false,
        );
        assert!(
            text.starts_with(
                "f.ndjson: 5 lines read, 3 accepted (2 changed, 1 unchanged), 2 rejected"
            ),
            "{text}"
        );
        let three = text.find("line 3: invalid_json").expect("line 3 listed");
        let nine = text.find("line 9: invalid_field").expect("line 9 listed");
        assert!(three < nine, "{text}");
    }
}
