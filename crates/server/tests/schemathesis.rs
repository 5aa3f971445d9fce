//! Schemathesis (PyPI, `pip install schemathesis==4.32.5`) against the served OpenAPI
//! document of a running service, with every check (`--checks all`): no 5xx, every status
//! and body as documented, schema-valid requests accepted and schema-violating ones refused.
//!
//! Without `schemathesis` on the PATH the test is skipped with how to install it, unless
//! `CI` is set: `.ci/run` installs it, and there a missing tool is a failure.
//!
//! What the document cannot say is listed in [`EXCLUSIONS`], each with its reason; they become
//! the run's `schemathesis.toml`. `tests/schemathesis/hooks.py` does the rest (NDJSON on the
//! wire, a PUT body's id from its path, a fresh `Idempotency-Key`), its reasons in its text.

mod common;

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use common::*;

/// The version the document was checked with; `.ci/run` installs the same.
const VERSION: &str = "4.32.5";

/// The whole run's bound (a run takes about 45 s on a quiet 2-core machine).
const BOUND: Duration = Duration::from_secs(180);

/// A status a check accepts on some operations, beyond its defaults, and why.
struct Exclusion {
    /// Operations, as a regex over the document's paths.
    paths: &'static str,
    /// `positive_data_acceptance` (schema-valid request answered 4xx) or
    /// `negative_data_rejection` (schema-violating request answered 2xx).
    check: &'static str,
    /// The statuses the check accepts there.
    statuses: &'static [&'static str],
    why: &'static str,
}

const CONFIG_OBJECTS: &str = r"^/api/v1/(surveys|distributions|rules|accounts|users)(/\{id\})?$";

/// Every deliberate exclusion of the run.
const EXCLUSIONS: &[Exclusion] = &[
    Exclusion {
        paths: CONFIG_OBJECTS,
        check: "positive_data_acceptance",
        statuses: &["2xx", "401", "403", "404", "409", "412", "422"],
        why: "422: a config object is judged by the config builder (SPEC §3): references to \
              other objects (owner, survey, sender_account, users), the survey's languages, \
              durations, templates and rule conditions. A body of the documented shape can \
              still be invalid, named with its path. 412: a generated If-Match cannot be \
              the ETag of an object the generator never read.",
    },
    Exclusion {
        paths: CONFIG_OBJECTS,
        check: "negative_data_rejection",
        statuses: &["400", "401", "403", "404", "409", "412", "415", "422"],
        why: "412: the If-Match precondition is checked before the object is judged, so a \
              generated If-Match refuses a malformed body with 412 rather than 422.",
    },
    Exclusion {
        paths: r"^/api/v1/cases:batch$",
        check: "negative_data_rejection",
        statuses: &["202", "400", "401", "403", "413", "415"],
        why: "a malformed line of a batch is rejected in the 202's per-line results while the \
              other lines are applied (SPEC §5); only a batch that is not UTF-8 or holds no \
              case is refused whole.",
    },
    Exclusion {
        paths: r"^/api/v1/(cases/\{id\}/messages|distributions/\{id\}/(test|preview|clone)|suppressions)$",
        check: "positive_data_acceptance",
        statuses: &["2xx", "401", "403", "404", "409", "422"],
        why: "422: an account id must name a configured account, a number must be a valid \
              E.164 number of its country's numbering plan (more than a pattern can say) and \
              not suppressed, a language one the survey offers, a message one the \
              distribution has, a copy's id a valid distribution id.",
    },
    Exclusion {
        paths: r"^/api/v1/analytics$",
        check: "positive_data_acceptance",
        statuses: &["2xx", "400", "401", "403", "404"],
        why: "400 naming the parameter (tested in tests/analytics.rs): the survey and \
              distribution must exist and `from` must not be after `to`, which a query schema \
              cannot say.",
    },
    Exclusion {
        paths: r"^/s/\{token\}(/answers)?$",
        check: "positive_data_acceptance",
        statuses: &["2xx", "401", "403", "404", "409", "410", "422", "423"],
        why: "422: answers must fit the survey's questions (a rating within its scale, a \
              choice among its options, every required question on submit).",
    },
];

/// Why strings are generated without NUL (`--generation-allow-x00 false`): every body,
/// path and query with a NUL character is refused (400, 404 for a path id), because
/// PostgreSQL stores none; `tests/input.rs` tests that. Putting a pattern on every string of
/// the document to say so would hide the types it describes.
const NO_NUL: &str = "a NUL character is refused everywhere, tested in tests/input.rs";

/// Ids of objects that exist, for schemathesis to draw a path, query or token from half the
/// time (random ones reach only the 404s). `alice`, whose token the run uses, is left out so
/// that a generated `DELETE /users/alice` cannot lock the run out.
fn known_ids(case: &str, invite: &str, token: &str, phone: &str) -> String {
    let ids = [
        "csat",
        "csat-wa",
        "invite-on-resolve",
        "support-wa",
        "other-wa",
        "bob",
        case,
        invite,
    ];
    let quoted: Vec<String> = ids.iter().map(|id| format!("\"{id}\"")).collect();
    format!(
        "[dictionaries.ids]\nvalues = [{}]\n\n[dictionaries.tokens]\nvalues = [\"{token}\"]\n\n\
         [dictionaries.phones]\nvalues = [\"{phone}\"]\n\n[parameters]\n\
         \"path.id\" = {{ dictionary = \"ids\", probability = 0.5 }}\n\
         \"path.token\" = {{ dictionary = \"tokens\", probability = 0.5 }}\n\
         \"path.phone\" = {{ dictionary = \"phones\", probability = 0.5 }}\n\
         \"query.survey\" = {{ dictionary = \"ids\", probability = 0.5 }}\n\
         \"query.case_id\" = {{ dictionary = \"ids\", probability = 0.5 }}\n\n",
        quoted.join(", ")
    )
}

/// The exclusions as a schemathesis config file, after `head`.
fn config_toml(head: String) -> String {
    let mut out = head;
    for exclusion in EXCLUSIONS {
        let statuses: Vec<String> = exclusion
            .statuses
            .iter()
            .map(|s| format!("\"{s}\""))
            .collect();
        out.push_str(&format!(
            "[[operations]]\ninclude-path-regex = '{}'\nchecks.{}.expected-statuses = [{}]\n\n",
            exclusion.paths,
            exclusion.check,
            statuses.join(", ")
        ));
    }
    out
}

/// Whether `schemathesis` runs here.
fn installed() -> bool {
    std::process::Command::new("schemathesis")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[tokio::test]
async fn schemathesis_finds_no_failure_in_the_served_document() {
    if !installed() {
        let hint = format!(
            "schemathesis is not installed: `pip install schemathesis=={VERSION}` \
             (Python 3.9+) to run this test"
        );
        assert!(std::env::var_os("CI").is_none(), "{hint}; CI must run it");
        eprintln!("skipped: {hint}");
        return;
    }
    for exclusion in EXCLUSIONS {
        assert!(
            !exclusion.why.is_empty(),
            "{} has no reason",
            exclusion.paths
        );
    }
    println!("strings without NUL: {NO_NUL}");
    let app = spawn_app_with(Options {
        edit: Some(with_users),
        ..Options::default()
    })
    .await;
    // Data for the run: a resolved case with its invite, and a suppressed number.
    let case = resolved_case("C-1", "+34600111222");
    let (status, body) = call(
        &app,
        reqwest::Method::PUT,
        "/cases/C-1",
        Some(ALICE),
        Some(case),
    )
    .await;
    assert_eq!(status, 202, "{body}");
    let phone = "+34600999888";
    let suppression = serde_json::json!({"phone": phone, "reason": "asked"});
    let (status, body) = call(
        &app,
        reqwest::Method::POST,
        "/suppressions",
        Some(ALICE),
        Some(suppression),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let invite = eventually(Duration::from_secs(10), || async {
        let (_, body) = call(
            &app,
            reqwest::Method::GET,
            "/invites?case_id=C-1",
            Some(ALICE),
            None,
        )
        .await;
        body["items"].get(0).cloned()
    })
    .await
    .expect("the case got an invite");
    let id = invite["id"].as_str().unwrap();
    let token = invite["link"].as_str().unwrap().rsplit('/').next().unwrap();

    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("schemathesis.toml");
    std::fs::write(&config, config_toml(known_ids("C-1", id, token, phone))).unwrap();
    let hooks = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/schemathesis/hooks.py");
    let mut run = tokio::process::Command::new("schemathesis");
    run.arg("--config-file")
        .arg(&config)
        .args(["run", &app.api("/openapi.json")])
        .args(["--checks", "all", "--max-examples", "15", "--workers", "1"])
        .args(["-H", &format!("Authorization: Bearer {ALICE}")])
        .args(["--generation-allow-x00", "false", "--no-color"])
        .env("SCHEMATHESIS_HOOKS", &hooks)
        // Hypothesis keeps its example database in the working directory: the temporary one.
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let started = std::time::Instant::now();
    let output = tokio::time::timeout(BOUND, run.output())
        .await
        .unwrap_or_else(|_| panic!("schemathesis ran longer than {BOUND:?}"))
        .expect("schemathesis starts");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let summary = stdout.find("SUMMARY").map_or(stdout.as_ref(), |at| {
        &stdout[stdout[..at].rfind('\n').map_or(0, |line| line + 1)..]
    });
    println!(
        "schemathesis {VERSION} in {:.0?}:\n{summary}",
        started.elapsed()
    );
    assert!(
        output.status.success(),
        "schemathesis found failures ({}):\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let count = |label: &str| {
        summary
            .lines()
            .find_map(|line| line.trim().strip_prefix(label))
            .and_then(|rest| rest.trim().split('/').next_back()?.parse::<usize>().ok())
            .unwrap_or_else(|| panic!("no {label:?} in the summary:\n{summary}"))
    };
    let (selected, tested) = (count("Selected:"), count("Tested:"));
    assert!(
        tested == selected && tested >= 60,
        "every operation of the document was tested ({tested} of {selected})"
    );
    app.stop().await;
}
