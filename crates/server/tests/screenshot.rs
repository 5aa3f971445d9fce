//! The survey page as a customer sees it on a phone: headless Chromium at 390×844.
//!
//! Needs Chromium (`apt-get install chromium`; `.ci/run` installs it). Without it the test
//! fails in CI (`CI=true`) and says how to get it elsewhere. The screenshots are kept at
//! `target/tmp/survey-page-390x844.png` (English) and `target/tmp/survey-page-es-390x844.png`
//! (a Spanish invite's page).

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::*;
use serde_json::json;

fn chromium() -> Option<PathBuf> {
    if let Ok(path) = std::env::var("CHROMIUM") {
        return Some(PathBuf::from(path));
    }
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find_map(|name| {
            let found = Command::new("which").arg(name).output().ok()?;
            found
                .status
                .success()
                .then(|| PathBuf::from(String::from_utf8_lossy(&found.stdout).trim().to_string()))
        })
}

/// Width and height from a PNG's IHDR chunk.
fn png_size(bytes: &[u8]) -> Option<(u32, u32)> {
    if bytes.len() < 24 || &bytes[..8] != b"\x89PNG\r\n\x1a\n" {
        return None;
    }
    let width = u32::from_be_bytes(bytes[16..20].try_into().ok()?);
    let height = u32::from_be_bytes(bytes[20..24].try_into().ok()?);
    Some((width, height))
}

/// Screenshots the survey page of a new invite in `language` to `target/tmp/{file}`.
async fn screenshot(language: &str, file: &str) {
    let Some(browser) = chromium() else {
        assert!(
            std::env::var("CI").is_err(),
            "CI must have Chromium: .ci/run installs it with apt-get"
        );
        eprintln!("skipped: no Chromium found; install it with `apt-get install chromium` or set CHROMIUM=/path");
        return;
    };
    let app = spawn_app().await;
    let mut case = resolved_case("C-1", "+34600111222");
    case["profile"]["language"] = json!(language);
    app.put_case(&case).await;
    app.invite_reaches("C-1", "opened").await;
    let token = app.token_of("C-1").await;
    let url = format!("{}/s/{token}", app.url);

    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(file);
    let _ = std::fs::remove_file(&out);
    let profile = tempfile::tempdir().unwrap();
    let status = tokio::task::spawn_blocking({
        let out = out.clone();
        let profile = profile.path().to_path_buf();
        move || {
            Command::new(browser)
                .args([
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-quic",
                    "--no-first-run",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--hide-scrollbars",
                    "--window-size=390,844",
                ])
                .arg(format!("--user-data-dir={}", profile.display()))
                .arg(format!("--screenshot={}", out.display()))
                .arg(&url)
                .output()
        }
    })
    .await
    .unwrap()
    .expect("chromium runs");
    assert!(
        status.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&status.stderr)
    );
    let png = std::fs::read(&out).expect("a screenshot was written");
    assert_eq!(png_size(&png), Some((390, 844)));
    assert!(
        png.len() > 10_000,
        "the page rendered content ({} bytes)",
        png.len()
    );
    println!("screenshot: {}", out.display());
    app.stop().await;
}

#[tokio::test]
async fn the_survey_page_renders_as_a_usable_form_at_phone_width() {
    screenshot("en", "survey-page-390x844.png").await;
}

#[tokio::test]
async fn a_spanish_invites_page_renders_in_spanish_at_phone_width() {
    screenshot("es", "survey-page-es-390x844.png").await;
}
