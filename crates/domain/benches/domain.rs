//! `cargo bench -p closeloop-domain`: the hot pure functions, timed without a framework
//! (median of many rounds, so a busy machine's outliers do not move the result).

use std::hint::black_box;
use std::time::{Duration, Instant};

use closeloop_domain::case::Case;
use closeloop_domain::condition::{EvalContext, EventKind};
use closeloop_domain::detect::detect;
use closeloop_domain::engine;

/// Median time of one call over `rounds` rounds of `per_round` calls.
fn median(rounds: usize, per_round: u32, mut f: impl FnMut()) -> Duration {
    let mut samples: Vec<Duration> = (0..rounds)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..per_round {
                f();
            }
            start.elapsed() / per_round
        })
        .collect();
    samples.sort();
    samples[samples.len() / 2]
}

fn main() {
    let messages = [
        "Olá, obrigado pela ajuda, o problema foi resolvido",
        "Hola, gracias por la ayuda, ya funciona",
        "Thanks, all good now!",
        "ok",
    ];
    let candidates = ["en", "es", "pt"];
    for text in messages {
        let t = median(101, 200, || {
            black_box(detect(black_box(text), &candidates));
        });
        println!(
            "detect {:>52}: median {:>8.2} µs",
            format!("{text:?}"),
            t.as_secs_f64() * 1e6
        );
    }

    let yaml = include_str!("../tests/fixtures/spec_example.yaml");
    let env = |name: &str| Some(format!("test-{name}"));
    let loaded = closeloop_domain::config::load_str(yaml, &env, time::OffsetDateTime::UNIX_EPOCH)
        .unwrap_or_else(|e| panic!("the SPEC example loads: {e:?}"));
    let before: Case = serde_json::from_str(
        r#"{"id":"C-1","number":"1","status":"Open","case_type":"billing","profile":{"first_name":"Ana","phone":"+34600000000","language":"es"}}"#,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let mut after = before.clone();
    after.status = "Resolved".into();
    let index = engine::RuleIndex::new(&loaded.config.rules);
    let t = median(101, 200, || {
        let ctx = EvalContext {
            event_kind: EventKind::CaseUpdated,
            before: Some(&before),
            after: &after,
            invites: &[],
            now: time::OffsetDateTime::UNIX_EPOCH,
        };
        black_box(engine::evaluate(&loaded.config.rules, &index, &ctx));
    });
    println!(
        "evaluate the SPEC example's 3 rules on a resolving case: median {:.2} µs",
        t.as_secs_f64() * 1e6
    );
}
