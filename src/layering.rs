//! The dependency rules of `docs/ARCHITECTURE.md`, checked on the source text so that they
//! cannot break silently: a new `use` that crosses a layer fails this test, with the file and
//! line to fix. (One crate keeps build times low; this test is the wall a workspace would be.)
//! It also holds the library to one error style: thiserror types, never `anyhow` or a bare
//! `String` as an error (those belong to `cli/`, the edge). And it keeps flags out of the
//! client's messages: a string literal in `graph/` (comments and tests aside) that names a
//! flag or `META_` variable fails it.

use std::path::{Path, PathBuf};

/// What each top-level module may import besides itself: the data flow of
/// `docs/ARCHITECTURE.md`, bottom to top. A module missing from this table fails the check, so
/// a new one is placed deliberately. Test modules may also use the pure layers' test helpers.
const ALLOWED: &[(&str, &[&str])] = &[
    ("model", &[]),
    ("file_io", &[]),
    ("rule", &["model"]),
    ("events", &["model", "rule"]),
    ("manifest", &["model", "rule", "file_io"]),
    ("plan", &["model", "rule", "manifest", "file_io"]),
    ("diff", &["model", "rule", "manifest", "plan"]),
    ("report", &["model", "rule", "manifest", "plan"]),
    ("render", &["model", "rule", "manifest", "plan", "report"]),
    ("graph", &["model", "rule", "events"]),
    ("emulator", &["model", "rule", "events", "file_io"]),
    (
        "reconcile",
        &[
            "model", "rule", "events", "file_io", "manifest", "plan", "diff", "render", "report",
            "graph",
        ],
    ),
    ("cli", &["*"]),
    ("main", &["*"]),
    ("lib", &["*"]),
];

/// Modules that must stay pure: no network.
const PURE: &[&str] = &[
    "model", "rule", "manifest", "events", "diff", "plan", "render", "report",
];
/// What a pure module may not use: network crates.
const NOT_IN_PURE: &[&str] = &["reqwest::", "axum::", "hyper::", "tokio::net", "std::net"];

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

/// Why `layer` may not import each module of `paths` (`crate::graph`, ...) it names.
fn crossings<'p>(layer: &'p str, paths: &'p [String]) -> impl Iterator<Item = String> + 'p {
    let allowed = ALLOWED.iter().find(|(l, _)| *l == layer).map(|(_, a)| *a);
    paths.iter().filter_map(move |path| {
        let target = path.strip_prefix("crate::")?;
        match allowed {
            None => Some(format!(
                "{layer} is not in layering::ALLOWED: place it in the data flow first"
            )),
            Some(["*"]) => None,
            // The crate root's constants (`crate::ACCOUNT_CAP`) belong to every layer.
            Some(_) if target == layer || !target.starts_with(|c: char| c.is_ascii_lowercase()) => {
                None
            }
            Some(allowed) if allowed.contains(&target) => None,
            Some(allowed) => Some(format!(
                "{layer} may import only {} (docs/ARCHITECTURE.md), not {target}",
                if allowed.is_empty() {
                    "nothing".to_string()
                } else {
                    allowed.join(", ")
                }
            )),
        }
    })
}

/// Every rule broken by one line of `file`, as `file:line: why` (`is_test`: the file is a test
/// module, which may reach any layer's test helpers).
fn violations(src: &Path, file: &Path, text: &str, is_test: bool) -> Vec<String> {
    let layer = layer(src, file);
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let code = line.split("//").next().unwrap_or("");
        let at = format!("{}:{}", file.display(), n + 1);
        let paths = crate_paths(code);
        if !is_test {
            out.extend(crossings(&layer, &paths).map(|why| format!("{at}: {why}")));
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
        if PURE.contains(&layer.as_str()) {
            for banned in NOT_IN_PURE {
                if code.contains(banned) {
                    out.push(format!("{at}: {layer} is pure and must not use {banned}"));
                }
            }
        }
    }
    out
}

/// Layers whose messages name no command-line flag and no environment variable: they describe
/// settings by the names their caller supplies (`graph::SettingNames`).
const FLAGLESS: &[&str] = &["graph"];

/// The string literals of a Rust source text, with their line numbers, leaving out comments,
/// attributes (doc comments are `#[doc]` attributes) and `#[cfg(test)]` items: tests may quote
/// any text. syn parses the file; literals inside macro calls (`format!("...")`) are found in
/// the macro's tokens.
fn literals_outside_tests(text: &str) -> Vec<(usize, String)> {
    use syn::visit::{self, Visit};

    fn cfg_test(attrs: &[syn::Attribute]) -> bool {
        attrs.iter().any(|a| {
            a.path().is_ident("cfg") && a.parse_args::<syn::Ident>().is_ok_and(|arg| arg == "test")
        })
    }

    #[derive(Default)]
    struct Literals(Vec<(usize, String)>);

    impl Literals {
        fn tokens(&mut self, tokens: proc_macro2::TokenStream) {
            for tree in tokens {
                match tree {
                    proc_macro2::TokenTree::Group(g) => self.tokens(g.stream()),
                    proc_macro2::TokenTree::Literal(l) => {
                        let line = l.span().start().line;
                        match syn::parse2::<syn::Lit>(proc_macro2::TokenTree::Literal(l).into()) {
                            Ok(syn::Lit::Str(s)) => self.0.push((line, s.value())),
                            Ok(syn::Lit::ByteStr(b)) => self
                                .0
                                .push((line, String::from_utf8_lossy(&b.value()).into())),
                            _ => {}
                        }
                    }
                    _ => {}
                }
            }
        }
    }

    impl<'ast> Visit<'ast> for Literals {
        fn visit_attribute(&mut self, _: &'ast syn::Attribute) {}
        fn visit_item(&mut self, item: &'ast syn::Item) {
            let attrs = match item {
                syn::Item::Const(i) => &i.attrs,
                syn::Item::Fn(i) => &i.attrs,
                syn::Item::Impl(i) => &i.attrs,
                syn::Item::Mod(i) => &i.attrs,
                syn::Item::Static(i) => &i.attrs,
                syn::Item::Use(i) => &i.attrs,
                syn::Item::Macro(i) => &i.attrs,
                _ => return visit::visit_item(self, item),
            };
            if !cfg_test(attrs) {
                visit::visit_item(self, item);
            }
        }
        fn visit_impl_item_fn(&mut self, item: &'ast syn::ImplItemFn) {
            if !cfg_test(&item.attrs) {
                visit::visit_impl_item_fn(self, item);
            }
        }
        fn visit_lit_str(&mut self, lit: &'ast syn::LitStr) {
            self.0.push((lit.span().start().line, lit.value()));
        }
        fn visit_lit_byte_str(&mut self, lit: &'ast syn::LitByteStr) {
            let value = String::from_utf8_lossy(&lit.value()).into();
            self.0.push((lit.span().start().line, value));
        }
        fn visit_macro(&mut self, mac: &'ast syn::Macro) {
            self.tokens(mac.tokens.clone());
        }
    }

    let file = syn::parse_file(text).unwrap_or_else(|e| {
        let at = e.span().start();
        panic!(
            "layering: cannot parse the source at {}:{}: {e}",
            at.line, at.column
        )
    });
    let mut literals = Literals::default();
    literals.visit_file(&file);
    literals.0.sort_by_key(|(line, _)| *line);
    literals.0
}

/// Whether a literal names a flag (`--api-base`) or one of Meta's environment variables.
fn names_a_flag(literal: &str) -> bool {
    let flag = literal
        .match_indices("--")
        .any(|(at, _)| literal[at + 2..].starts_with(|c: char| c.is_ascii_lowercase()));
    flag || literal.contains("META_")
}

/// The paths of the test modules `file` declares to be in files of their own
/// (`#[cfg(test)] mod tests;` in `diff/mod.rs` is `diff/tests.rs` or `diff/tests/`): all
/// their text is test code.
fn test_module_paths(file: &Path, text: &str) -> Vec<PathBuf> {
    let parent = file.parent().unwrap_or(Path::new(""));
    let dir = match file.file_name().and_then(|n| n.to_str()) {
        Some("mod.rs" | "lib.rs" | "main.rs") => parent.to_path_buf(),
        _ => parent.join(file.file_stem().unwrap_or_default()),
    };
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    lines
        .windows(2)
        .filter(|pair| pair[0] == "#[cfg(test)]")
        .filter_map(|pair| {
            let declared = pair[1].strip_prefix("pub(crate) ").unwrap_or(pair[1]);
            let name = declared.strip_prefix("mod ")?.strip_suffix(';')?;
            Some(dir.join(name))
        })
        .collect()
}

/// Every literal of a flagless layer's file that names a flag, as `file:line: why`.
fn flag_literals(src: &Path, file: &Path, text: &str) -> Vec<String> {
    if !FLAGLESS.contains(&layer(src, file).as_str()) {
        return Vec::new();
    }
    literals_outside_tests(text)
        .into_iter()
        .filter(|(_, literal)| names_a_flag(literal))
        .map(|(line, literal)| {
            format!(
                "{}:{line}: {literal:?} names a flag or variable; use the caller's SettingNames",
                file.display()
            )
        })
        .collect()
}

#[test]
fn layers_import_only_what_the_architecture_allows() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let texts: Vec<(&PathBuf, String)> = files
        .iter()
        .filter(|file| !file.ends_with("layering.rs"))
        .map(|file| (file, std::fs::read_to_string(file).unwrap()))
        .collect();
    let test_modules: Vec<PathBuf> = texts
        .iter()
        .flat_map(|(file, text)| test_module_paths(file, text))
        .collect();
    let is_test_module = |file: &Path| {
        test_modules
            .iter()
            .any(|m| file.starts_with(m) || file == m.with_extension("rs"))
    };
    let mut broken = Vec::new();
    for (file, text) in &texts {
        let is_test = is_test_module(file);
        broken.extend(violations(&src, file, text, is_test));
        if !is_test {
            broken.extend(flag_literals(&src, file, text));
        }
    }
    assert!(broken.is_empty(), "layering broken:\n{}", broken.join("\n"));
}

#[test]
fn the_check_catches_each_kind_of_crossing() {
    let broken = |file: &str, line: &str| {
        !violations(Path::new("/s"), Path::new(file), line, false).is_empty()
    };
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
    assert!(broken("/s/manifest/entry.rs", "use crate::plan::Action;"));
    assert!(broken(
        "/s/events/mod.rs",
        "use crate::manifest::Manifests;"
    ));
    assert!(broken("/s/plan/mod.rs", "use crate::diff::diff_account;"));
    assert!(broken(
        "/s/rule/eval.rs",
        "use crate::manifest::Diagnostic;"
    ));
    assert!(broken("/s/newlayer.rs", "use crate::model::Secret;"));
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
        "/s/diff/mod.rs",
        "use crate::plan::{Action, Field};"
    ));
    assert!(allowed(
        "/s/events/mod.rs",
        "use crate::{model, rule::Event};"
    ));
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

#[test]
fn the_check_finds_flags_in_literals_only() {
    let literals = |text: &str| {
        literals_outside_tests(text)
            .into_iter()
            .map(|(line, literal)| format!("{line}:{literal}"))
            .collect::<Vec<_>>()
    };
    let text = r####"
//! `--trace FILE`: doc comments may name flags.
fn f<'a>(x: &'a str) -> char {
    let q = '"'; let e = '\''; let u = '\u{7f}'; let bs = '\\'; /* "--in-a-comment" /* nested */ "--still" */
    let s = "give --trace a path"; // "--comment"
    let r = r#"raw "--api-base""#; let b = b"bytes"; let br = br"--x";
    let multi = "one
two \" --three";
    'label: loop { break 'label; }
    '}'
}
#[cfg(test)]
use std::fmt;
fn g() -> &'static str { "--after-a-use" }
#[cfg(test)]
mod tests {
    fn h() { let _ = "--in-a-test"; let _ = '{'; }
}
fn last() -> &'static str { "--last" }
"####;
    assert_eq!(
        literals(text),
        [
            "5:give --trace a path",
            r#"6:raw "--api-base""#,
            "6:bytes",
            "6:--x",
            "7:one\ntwo \" --three",
            "14:--after-a-use",
            "19:--last",
        ]
    );
    assert!(names_a_flag("check --api-base") && names_a_flag("set META_ACCESS_TOKEN"));
    assert!(!names_a_flag("a -- b") && !names_a_flag("--") && !names_a_flag("--X"));
    let src = Path::new("/s");
    let check = |file: &str| {
        flag_literals(
            src,
            Path::new(file),
            r#"fn f() { let m = "lower --parallelism"; }"#,
        )
    };
    assert_eq!(check("/s/graph/error.rs").len(), 1);
    assert!(
        check("/s/cli/session.rs").is_empty(),
        "only flagless layers"
    );
    let declared = "#[cfg(test)]\nmod tests;\n#[cfg(test)]\npub(crate) mod fakes;\nmod real;";
    assert_eq!(
        test_module_paths(Path::new("/s/diff/mod.rs"), declared),
        [Path::new("/s/diff/tests"), Path::new("/s/diff/fakes")]
    );
    assert_eq!(
        test_module_paths(Path::new("/s/plan/check.rs"), declared)[0],
        Path::new("/s/plan/check/tests")
    );
}
