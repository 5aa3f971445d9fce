//! Tidy tests in the style of rust-analyzer's: they read the source tree and fail the build
//! when the layers of `crates/server/src` are crossed the wrong way, or when a top-level
//! module appears that ARCHITECTURE.md does not describe.
//!
//! The layers, highest first: `cli` → `app` → `http` | `worker` → `usecase` → `runtime`.
//! A module may import its own layer's module and the layers below it; `http` and `worker`
//! are two transports and do not import each other.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

/// Every top-level module of the crate with its rank (higher may import lower).
const LAYERS: &[(&str, u8)] = &[
    ("cli", 5),
    ("app", 4),
    ("http", 3),
    ("worker", 3),
    ("usecase", 2),
    ("runtime", 1),
];

/// Files that only declare or start the crate.
const ROOT_FILES: &[&str] = &["lib.rs", "main.rs"];

fn rank(module: &str) -> Option<u8> {
    LAYERS.iter().find(|(m, _)| *m == module).map(|(_, r)| *r)
}

/// The top-level module a file belongs to (`http/api/cases.rs` → `http`).
fn owner(relative: &Path) -> Option<String> {
    let first = relative.components().next()?.as_os_str().to_str()?;
    Some(first.trim_end_matches(".rs").to_string())
}

/// Every `.rs` file under `dir`.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// The source without comments, string and char literals, so prose mentioning a path
/// does not count as an import.
fn code_only(source: &str) -> String {
    let chars: Vec<char> = source.chars().collect();
    let mut out = String::with_capacity(source.len());
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '/' if chars.get(i + 1) == Some(&'/') => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            '"' => {
                i += 1;
                while i < chars.len() && chars[i] != '"' {
                    i += if chars[i] == '\\' { 2 } else { 1 };
                }
                out.push_str("\"\"");
                i += 1;
            }
            '\'' => {
                // A char literal ('x', '\n', '\u{..}'); a lifetime has no closing quote.
                let escaped = chars.get(i + 1) == Some(&'\\');
                let from = if escaped { i + 3 } else { i + 2 };
                let close = (from..chars.len().min(i + 12)).find(|&k| chars[k] == '\'');
                let literal = close.filter(|&k| escaped || k == i + 2);
                match literal {
                    Some(k) => i = k + 1,
                    None => {
                        out.push('\'');
                        i += 1;
                    }
                }
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

/// The top-level modules a file names through `crate::…`, including `use crate::{a, b}`.
fn imported_modules(source: &str) -> BTreeSet<String> {
    let code = code_only(source);
    let mut modules = BTreeSet::new();
    let mut rest = code.as_str();
    while let Some(at) = rest.find("crate::") {
        let preceded_by_ident = rest[..at]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '_');
        rest = &rest[at + "crate::".len()..];
        if preceded_by_ident {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                let name: String = item
                    .trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() && name != "self" {
                    modules.insert(name);
                }
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                modules.insert(name);
            }
        }
    }
    modules
}

/// Every import that crosses the layers the wrong way, and every top-level module without
/// a layer, as messages naming the file.
fn layer_violations(src: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    for file in rust_files(src) {
        let relative = file.strip_prefix(src).unwrap_or(&file).to_path_buf();
        let shown = relative.display().to_string();
        if ROOT_FILES.contains(&shown.as_str()) {
            continue;
        }
        let Some(module) = owner(&relative) else {
            continue;
        };
        let Some(own_rank) = rank(&module) else {
            problems.push(format!(
                "{shown}: top-level module `{module}` has no layer: add it to LAYERS in \
                 tests/architecture.rs and describe it in ARCHITECTURE.md"
            ));
            continue;
        };
        let source = fs::read_to_string(&file).unwrap_or_default();
        if code_only(&source).contains("super::super") {
            problems.push(format!(
                "{shown}: `super::super` hides which layer it reaches; name it with `crate::`"
            ));
        }
        for imported in imported_modules(&source) {
            if imported == module {
                continue;
            }
            match rank(&imported) {
                Some(r) if r < own_rank => {}
                Some(_) => problems.push(format!(
                    "{shown}: `{module}` imports `crate::{imported}`, a layer that is not below it"
                )),
                None => problems.push(format!(
                    "{shown}: imports `crate::{imported}`, which is not a known layer"
                )),
            }
        }
    }
    problems
}

fn server_src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn no_layer_imports_a_layer_above_it() {
    let problems = layer_violations(&server_src());
    assert!(
        problems.is_empty(),
        "the layers of crates/server/src are crossed:\n  {}",
        problems.join("\n  ")
    );
}

#[test]
fn every_top_level_module_is_in_architecture_md() {
    let architecture = fs::read_to_string(workspace_root().join("ARCHITECTURE.md"))
        .unwrap_or_else(|e| panic!("ARCHITECTURE.md: {e}"));
    let mut missing = Vec::new();
    let entries = fs::read_dir(server_src()).unwrap_or_else(|e| panic!("src: {e}"));
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        if ROOT_FILES.contains(&name.as_str()) {
            continue;
        }
        let module = name.trim_end_matches(".rs");
        let described = architecture.contains(&format!("`crates/server/src/{module}/`"))
            || architecture.contains(&format!("`crates/server/src/{module}.rs`"));
        if !described {
            missing.push(name);
        }
    }
    missing.sort();
    assert!(
        missing.is_empty(),
        "top-level modules with no entry in ARCHITECTURE.md's code map \
         (a heading naming `crates/server/src/<module>/` or `<module>.rs`): {missing:?}"
    );
}

#[test]
fn the_domain_crate_does_no_io() {
    let manifest = fs::read_to_string(workspace_root().join("crates/domain/Cargo.toml"))
        .unwrap_or_else(|e| panic!("crates/domain/Cargo.toml: {e}"));
    for io in ["tokio", "sqlx", "axum", "reqwest"] {
        assert!(
            !manifest.lines().any(|l| l.trim_start().starts_with(io)),
            "crates/domain depends on {io}; the domain is pure (ARCHITECTURE.md)"
        );
    }
}

#[test]
fn the_check_catches_a_wrong_import() {
    let tree = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let write = |path: &str, text: &str| {
        let file = tree.path().join(path);
        if let Some(dir) = file.parent() {
            fs::create_dir_all(dir).unwrap_or_else(|e| panic!("{dir:?}: {e}"));
        }
        fs::write(&file, text).unwrap_or_else(|e| panic!("{file:?}: {e}"));
    };
    write("lib.rs", "pub mod app;\n");
    write(
        "usecase/answers.rs",
        "// crate::http in a comment is prose\nuse crate::runtime::clock::Clock;\n\
         use crate::{runtime, http::AppState};\nfn f() -> &'static str { \"crate::worker\" }\n\
         fn q(c: char) -> bool { c == '\"' || c == '\\'' }\nfn w() { crate::worker::x(); }\n",
    );
    write("http/api/cases.rs", "use crate::usecase::ingest;\n");
    write("worker/events.rs", "fn g() { crate::http::router(); }\n");
    write("shiny/mod.rs", "\n");
    let problems = layer_violations(tree.path());
    assert_eq!(problems.len(), 4, "{problems:#?}");
    assert!(problems[0].contains("shiny"), "{problems:#?}");
    assert!(
        problems[1].contains("usecase/answers.rs") && problems[1].contains("crate::http"),
        "{problems:#?}"
    );
    assert!(
        problems[2].contains("usecase/answers.rs") && problems[2].contains("crate::worker"),
        "{problems:#?}"
    );
    assert!(
        problems[3].contains("worker/events.rs") && problems[3].contains("crate::http"),
        "{problems:#?}"
    );
}
