//! `{{...}}` placeholders in message texts: named ones (`{{case.number}}`,
//! `{{profile.first_name}}`, `{{survey.link}}`) filled from a case, and WhatsApp's positional
//! ones (`{{1}}`, `{{2}}`) counted and filled for previews and checks.

use serde_json::Value;

use crate::case::Case;
use crate::field::FieldPath;

/// What named placeholders are filled from.
#[derive(Clone, Copy, Debug)]
pub struct RenderContext<'a> {
    /// The case (and its profile).
    pub case: &'a Case,
    /// The invite's full survey link.
    pub survey_link: &'a str,
    /// The invite's link token.
    pub survey_token: &'a str,
    /// The survey's display name.
    pub survey_name: &'a str,
}

/// The survey placeholders.
pub const SURVEY_PLACEHOLDERS: [&str; 3] = ["survey.link", "survey.token", "survey.name"];

/// A `{{ inner }}` occurrence: byte range of the whole placeholder and its trimmed inner text.
struct Placeholder<'t> {
    start: usize,
    end: usize,
    name: &'t str,
}

fn placeholders(text: &str) -> Vec<Placeholder<'_>> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(open) = text[from..].find("{{").map(|i| i + from) {
        let Some(close) = text[open + 2..].find("}}").map(|i| i + open + 2) else {
            break;
        };
        let inner = &text[open + 2..close];
        if inner.contains("{{") {
            // `{{ {{x}}`: restart at the inner opening so the real placeholder is found.
            from = open + 2 + inner.find("{{").unwrap_or(0);
            continue;
        }
        out.push(Placeholder {
            start: open,
            end: close + 2,
            name: inner.trim(),
        });
        from = close + 2;
    }
    out
}

/// Replaces placeholders whose `lookup` returns `Some`, leaving the others as written.
fn substitute(text: &str, lookup: impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for p in placeholders(text) {
        if let Some(value) = lookup(p.name) {
            out.push_str(&text[last..p.start]);
            out.push_str(&value);
            last = p.end;
        }
    }
    out.push_str(&text[last..]);
    out
}

fn value_text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(value_text).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

/// Whether a named placeholder can be filled by [`render`].
pub fn is_known_placeholder(name: &str) -> bool {
    SURVEY_PLACEHOLDERS.contains(&name)
        || (name.starts_with("case.") || name.starts_with("profile."))
            && FieldPath::parse(name).is_ok()
}

/// Fills named placeholders. Known fields without a value become `""`; unknown placeholders
/// (including positional `{{1}}`) are left as written.
pub fn render(template: &str, ctx: &RenderContext) -> String {
    substitute(template, |name| match name {
        "survey.link" => Some(ctx.survey_link.to_owned()),
        "survey.token" => Some(ctx.survey_token.to_owned()),
        "survey.name" => Some(ctx.survey_name.to_owned()),
        _ if is_known_placeholder(name) => FieldPath::parse(name)
            .ok()
            .map(|path| value_text(&ctx.case.field(&path))),
        _ => None,
    })
}

fn positional(name: &str) -> Option<usize> {
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    name.parse().ok()
}

/// The distinct `{{n}}` numbers in `body`, ascending.
pub fn positional_indices(body: &str) -> Vec<usize> {
    let mut out: Vec<usize> = placeholders(body)
        .iter()
        .filter_map(|p| positional(p.name))
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// How many distinct `{{n}}` placeholders `body` has. WhatsApp needs them to be exactly
/// `1..=n`; check that with [`positional_indices`].
pub fn positional_count(body: &str) -> usize {
    positional_indices(body).len()
}

/// Replaces `{{n}}` by `params[n - 1]`; placeholders without a parameter stay as written.
pub fn fill_positional(body: &str, params: &[String]) -> String {
    substitute(body, |name| {
        positional(name)
            .and_then(|n| n.checked_sub(1))
            .and_then(|i| params.get(i).cloned())
    })
}

/// The named (non-positional) placeholders of `template`, trimmed, in first-seen order.
pub fn placeholder_names(template: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for p in placeholders(template) {
        if positional(p.name).is_none() && !out.iter().any(|n| n == p.name) {
            out.push(p.name.to_owned());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn case() -> Case {
        serde_json::from_value(json!({
            "id":"C-1","number":"1001","status":"Resolved","tags":["a","b"],
            "custom":{"n":3},
            "profile":{"first_name":"Ana","custom":{"mobile":"+34611222333"}}
        }))
        .unwrap()
    }

    #[test]
    fn render_table() {
        let case = case();
        let ctx = RenderContext {
            case: &case,
            survey_link: "http://x/s/TOK",
            survey_token: "TOK",
            survey_name: "CSAT",
        };
        let table: &[(&str, &str)] = &[
            ("Hi {{profile.first_name}}!", "Hi Ana!"),
            ("{{ case.number }}/{{case.status}}", "1001/Resolved"),
            ("{{case.custom.n}} {{case.tags}}", "3 a, b"),
            ("{{profile.custom.mobile}}", "+34611222333"),
            (
                "[{{case.priority}}][{{profile.phone}}][{{case.custom.nope}}]",
                "[][][]",
            ),
            (
                "{{survey.link}} {{survey.token}} {{survey.name}}",
                "http://x/s/TOK TOK CSAT",
            ),
            (
                "{{unknown.thing}} {{1}} {{case.colour}}",
                "{{unknown.thing}} {{1}} {{case.colour}}",
            ),
            ("{{ {{case.number}}", "{{ 1001"),
            ("open {{case.number", "open {{case.number"),
            ("no placeholders", "no placeholders"),
        ];
        for (template, want) in table {
            assert_eq!(render(template, &ctx), *want, "{template}");
        }
    }

    #[test]
    fn positional_helpers() {
        let body = "Hi {{1}}, case {{2}}: {{3}} ({{ 1 }})";
        assert_eq!(positional_indices(body), vec![1, 2, 3]);
        assert_eq!(positional_count(body), 3);
        assert_eq!(positional_indices("{{2}} {{4}}"), vec![2, 4]);
        assert_eq!(positional_count("{{case.number}}"), 0);
        let params = vec!["Ana".to_owned(), "1001".to_owned()];
        assert_eq!(
            fill_positional(body, &params),
            "Hi Ana, case 1001: {{3}} (Ana)"
        );
        assert_eq!(fill_positional("{{0}}", &params), "{{0}}");
    }

    #[test]
    fn names() {
        assert_eq!(
            placeholder_names(
                "{{profile.first_name}} {{1}} {{ survey.link }} {{profile.first_name}}"
            ),
            vec!["profile.first_name", "survey.link"]
        );
        for (name, known) in [
            ("case.number", true),
            ("profile.custom.x", true),
            ("survey.token", true),
            ("survey.colour", false),
            ("case.colour", false),
            ("event.kind", false),
        ] {
            assert_eq!(is_known_placeholder(name), known, "{name}");
        }
    }
}
