//! The config loader judges any input without panicking (issue 14): random text, YAML
//! built from the config's own vocabulary with values of every type, and the SPEC example
//! with lines cut out or swapped. Every outcome is a config or a list of errors with paths.
//! The case count is fixed, so the run is bounded (a few seconds).

use closeloop_domain::config::load_str;
use proptest::prelude::*;

const EXAMPLE: &str = include_str!("fixtures/spec_example.yaml");

/// Keys the loader knows, so generated documents reach deep into its checks.
const KEYS: &[&str] = &[
    "public_url",
    "accounts",
    "users",
    "surveys",
    "distributions",
    "rules",
    "id",
    "provider",
    "access_token",
    "app_secret",
    "verify_token",
    "phone_number_id",
    "messages_per_second",
    "questions",
    "type",
    "required",
    "text",
    "options",
    "languages",
    "default_language",
    "owner",
    "survey",
    "channel",
    "schedule",
    "sender_account",
    "status",
    "messages",
    "invitation",
    "reminder",
    "thank_you",
    "template",
    "body",
    "body_params",
    "on",
    "when",
    "then",
    "all",
    "any",
    "not",
    "case.status",
    "changed_to",
    "in",
    "every",
    "queue",
    "for",
    "quick_replies",
    "values",
    "question",
    "in_chat",
    "header_image",
    "link",
    "expires_after",
];

fn scalar() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("~".to_string()),
        any::<bool>().prop_map(|b| b.to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<f64>().prop_map(|f| f.to_string()),
        "[a-z_]{0,8}",
        "\\PC{0,12}".prop_map(|s| format!("{s:?}")),
        Just("15m".to_string()),
        Just("${MISSING}".to_string()),
        Just("&a [1, *a]".to_string()),
    ]
}

/// A YAML value as flow text: scalars, lists and maps keyed from [`KEYS`].
fn yaml_value() -> impl Strategy<Value = String> {
    scalar().prop_recursive(5, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(|v| format!("[{}]", v.join(", "))),
            prop::collection::vec((prop::sample::select(KEYS), inner), 0..6).prop_map(|kv| {
                let pairs: Vec<String> = kv.iter().map(|(k, v)| format!("{k:?}: {v}")).collect();
                format!("{{{}}}", pairs.join(", "))
            }),
        ]
    })
}

fn judged(text: &str) {
    let outcome = load_str(text, &|_| None, time::OffsetDateTime::UNIX_EPOCH);
    if let Err(errors) = outcome {
        assert!(!errors.is_empty(), "a refusal names at least one problem");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn any_text_is_judged_without_panicking(text in "\\PC{0,400}") {
        judged(&text);
    }

    #[test]
    fn documents_of_the_configs_vocabulary_are_judged_without_panicking(
        top in prop::collection::vec((prop::sample::select(KEYS), yaml_value()), 0..8)
    ) {
        let text: String = top.iter().map(|(k, v)| format!("{k}: {v}\n")).collect();
        judged(&text);
    }

    #[test]
    fn the_spec_example_cut_or_shuffled_is_judged_without_panicking(
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 1..6),
        swap in any::<(prop::sample::Index, prop::sample::Index)>(),
    ) {
        let mut lines: Vec<&str> = EXAMPLE.lines().collect();
        for cut in cuts {
            let at = cut.index(lines.len());
            lines.remove(at);
        }
        let (a, b) = (swap.0.index(lines.len()), swap.1.index(lines.len()));
        lines.swap(a, b);
        judged(&lines.join("\n"));
    }
}
