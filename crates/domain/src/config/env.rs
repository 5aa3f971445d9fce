//! `${NAME}` substitution on the raw config text, before YAML parsing (SPEC §2).
//!
//! Full-line comments are left alone so a commented-out `${OLD_TOKEN}` does not demand a
//! variable. A missing variable is an error naming it and its line.

use super::error::ConfigError;

fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Replaces every `${NAME}` by `env(NAME)`.
///
/// # Errors
/// One error per missing variable occurrence, with path `""`.
pub(crate) fn substitute(
    text: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<String, Vec<ConfigError>> {
    let mut out = String::with_capacity(text.len());
    let mut errors = Vec::new();
    for (n, line) in text.split_inclusive('\n').enumerate() {
        if line.trim_start().starts_with('#') {
            out.push_str(line);
            continue;
        }
        let mut rest = line;
        while let Some(start) = rest.find("${") {
            let after = &rest[start + 2..];
            let Some(end) = after.find('}').filter(|&e| is_name(&after[..e])) else {
                // Not a variable reference: keep `${` literally and go on.
                out.push_str(&rest[..start + 2]);
                rest = after;
                continue;
            };
            let name = &after[..end];
            out.push_str(&rest[..start]);
            match env(name) {
                Some(value) => out.push_str(&value),
                None => errors.push(ConfigError::new(
                    "",
                    format!("environment variable `{name}` is not set (line {})", n + 1),
                )),
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "A" => Some("alpha".into()),
            "B_2" => Some("beta".into()),
            _ => None,
        }
    }

    #[test]
    fn substitution_table() {
        let ok: &[(&str, &str)] = &[
            ("x: ${A}", "x: alpha"),
            ("x: ${A}-${B_2}\ny: ${A}", "x: alpha-beta\ny: alpha"),
            ("x: $A ${} ${1X} ${A", "x: $A ${} ${1X} ${A"),
            ("# token: ${MISSING}\nx: 1", "# token: ${MISSING}\nx: 1"),
        ];
        for (input, want) in ok {
            assert_eq!(substitute(input, &env).as_deref(), Ok(*want), "{input}");
        }
    }

    #[test]
    fn missing_variables_are_all_named() {
        let errs = substitute("a: ${A}\nb: ${NOPE}\nc: ${ALSO_NOPE}", &env).unwrap_err();
        let msgs: Vec<_> = errs.iter().map(|e| e.to_string()).collect();
        assert_eq!(
            msgs,
            vec![
                "environment variable `NOPE` is not set (line 2)",
                "environment variable `ALSO_NOPE` is not set (line 3)"
            ]
        );
    }
}
