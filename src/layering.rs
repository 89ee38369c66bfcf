//! The dependency rules of `docs/ARCHITECTURE.md`, checked on the source text so that they
//! cannot break silently: a new `use` that crosses a layer fails this test, with the file and
//! line to fix. (One crate keeps build times low; this test is the wall a workspace would be.)
//! It also holds the library to one error style: thiserror types, never `anyhow` or a bare
//! `String` as an error (those belong to `cli/`, the edge).

use std::path::{Path, PathBuf};

/// Modules that must stay pure: no client, server, operations or command line, no network.
const PURE: &[&str] = &["model", "rule", "diff", "plan", "render"];
/// What a pure module may not name: the layers above it and network crates.
const NOT_IN_PURE: &[&str] = &[
    "crate::graph",
    "crate::emulator",
    "crate::reconcile",
    "crate::cli",
    "reqwest::",
    "axum::",
    "hyper::",
    "tokio::net",
    "std::net",
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file belongs to (`src/graph/list.rs` → `graph`, `src/lib.rs` → `lib`).
fn layer(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap();
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy();
    first.trim_end_matches(".rs").to_string()
}

/// Every `crate::<module>` a line names, including inside `crate::{a, b::c}` groups.
fn crate_paths(line: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = line;
    while let Some(at) = rest.find("crate::") {
        let after = &rest[at + "crate::".len()..];
        if let Some(group) = after.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                let name: String = item
                    .trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    found.push(format!("crate::{name}"));
                }
            }
        } else {
            let name: String = after
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            found.push(format!("crate::{name}"));
        }
        rest = after;
    }
    found
}

/// Whether a line names a `Result<T, String>`: the error argument (the last one at the top
/// level of the brackets) is `String`. `Result<HashMap<String, String>, E>` is not one.
fn string_errors(code: &str) -> bool {
    let mut rest = code;
    while let Some(at) = rest.find("Result<") {
        let args = &rest[at + "Result<".len()..];
        let (mut depth, mut last_comma, mut end) = (0usize, None, None);
        for (i, c) in args.char_indices() {
            match c {
                '<' | '(' | '[' => depth += 1,
                '>' | ')' | ']' if depth == 0 => {
                    end = Some(i);
                    break;
                }
                '>' | ')' | ']' => depth -= 1,
                ',' if depth == 0 => last_comma = Some(i),
                _ => {}
            }
        }
        if let (Some(comma), Some(end)) = (last_comma, end)
            && args[comma + 1..end].trim() == "String"
        {
            return true;
        }
        rest = args;
    }
    false
}

/// Every rule broken by one line of `file`, as `file:line: why`.
fn violations(src: &Path, file: &Path, text: &str) -> Vec<String> {
    let layer = layer(src, file);
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let code = line.split("//").next().unwrap_or("");
        let at = format!("{}:{}", file.display(), n + 1);
        let paths = crate_paths(code);
        let names = |prefix: &str| {
            paths.iter().any(|p| p == prefix) || code.contains(&format!("{prefix}::"))
        };
        if layer != "cli" && layer != "main" && layer != "layering" && names("crate::cli") {
            out.push(format!(
                "{at}: only cli/ may import cli (the library knows no flag)"
            ));
        }
        let library = !matches!(layer.as_str(), "cli" | "main" | "layering");
        if library && code.contains("anyhow") {
            out.push(format!(
                "{at}: the library returns thiserror types; anyhow belongs to the edge (cli/)"
            ));
        }
        if library && string_errors(code) {
            out.push(format!(
                "{at}: a library error is a type (thiserror) that callers can match, not a String"
            ));
        }
        if layer == "graph" && names("crate::emulator") {
            out.push(format!("{at}: the client must not import the emulator"));
        }
        if layer == "emulator" && names("crate::graph") {
            out.push(format!("{at}: the emulator must not import the client"));
        }
        if PURE.contains(&layer.as_str()) {
            for banned in NOT_IN_PURE {
                let hit = if banned.starts_with("crate::") {
                    names(banned)
                } else {
                    code.contains(banned)
                };
                if hit {
                    out.push(format!("{at}: {layer} is pure and must not use {banned}"));
                }
            }
        }
    }
    out
}

#[test]
fn layers_import_only_what_the_architecture_allows() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut broken = Vec::new();
    for file in &files {
        if file.ends_with("layering.rs") {
            continue;
        }
        let text = std::fs::read_to_string(file).unwrap();
        broken.extend(violations(&src, file, &text));
    }
    assert!(broken.is_empty(), "layering broken:\n{}", broken.join("\n"));
}

#[test]
fn the_check_catches_each_kind_of_crossing() {
    let broken =
        |file: &str, line: &str| !violations(Path::new("/s"), Path::new(file), line).is_empty();
    assert!(broken("/s/diff/mod.rs", "use crate::graph::GraphClient;"));
    assert!(broken(
        "/s/render/text.rs",
        "use crate::{model, cli::args};"
    ));
    assert!(broken(
        "/s/graph/list.rs",
        "let x = crate::emulator::start;"
    ));
    assert!(broken(
        "/s/emulator/api.rs",
        "use crate::graph::{ErrorKind};"
    ));
    assert!(broken("/s/reconcile/apply/mod.rs", "use crate::cli::exit;"));
    assert!(broken("/s/plan/mod.rs", "use reqwest::Client;"));
    assert!(broken(
        "/s/emulator/mod.rs",
        "fn start() -> anyhow::Result<()> {"
    ));
    assert!(broken(
        "/s/rule/eval.rs",
        "fn f(p: &str) -> Result<(), String> {"
    ));
    assert!(broken(
        "/s/plan/mod.rs",
        "fn f() -> Result<HashMap<String, u8>, String> {"
    ));
    // Allowed: operations use the client; the CLI uses everything (anyhow too); a String
    // that is not the error; comments are not code.
    let allowed = |file: &str, line: &str| !broken(file, line);
    assert!(allowed(
        "/s/reconcile/live_api.rs",
        "use crate::graph::GraphClient;"
    ));
    assert!(allowed("/s/cli/session.rs", "use crate::emulator::start;"));
    assert!(allowed(
        "/s/cli/run.rs",
        "fn run() -> anyhow::Result<Vec<String>> {"
    ));
    assert!(allowed(
        "/s/plan/mod.rs",
        "fn names() -> Result<Vec<String>, PlanError> {"
    ));
    assert!(allowed(
        "/s/plan/mod.rs",
        "type M = Result<HashMap<String, String>, E>;"
    ));
    assert!(allowed(
        "/s/diff/mod.rs",
        "// see crate::graph for the client"
    ));
}
