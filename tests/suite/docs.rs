//! The docs must keep up with the code: every command and long option of the real clap
//! definition appears in docs/cli.md, troubleshooting covers every Graph error the client can
//! report, and the docs' relative links point at files that exist.

use clap::CommandFactory;
use convctl::cli::args::Cli;
use std::path::{Path, PathBuf};

fn docs_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("docs")
}

fn read_doc(name: &str) -> String {
    std::fs::read_to_string(docs_dir().join(name)).unwrap_or_else(|e| panic!("docs/{name}: {e}"))
}

/// `(command path, long options)` for the root and every subcommand, recursively.
fn commands() -> Vec<(String, Vec<String>)> {
    fn walk(command: &clap::Command, prefix: &str, out: &mut Vec<(String, Vec<String>)>) {
        let longs = command
            .get_arguments()
            .filter(|a| !a.is_hide_set())
            .filter_map(|a| a.get_long().map(str::to_string))
            .collect();
        out.push((prefix.to_string(), longs));
        for sub in command.get_subcommands().filter(|s| s.get_name() != "help") {
            let path = if prefix.is_empty() {
                sub.get_name().to_string()
            } else {
                format!("{prefix} {}", sub.get_name())
            };
            walk(sub, &path, out);
        }
    }
    let mut command = Cli::command();
    command.build();
    let mut out = Vec::new();
    walk(&command, "", &mut out);
    out
}

#[test]
fn cli_md_documents_every_command_and_long_option() {
    let doc = read_doc("cli.md");
    let mut missing = Vec::new();
    for (path, longs) in commands() {
        // A command with subcommands of its own (events) is documented per leaf: every leaf
        // gets a `### name` heading (`### events send`).
        let has_children = Cli::command()
            .find_subcommand(&path)
            .is_some_and(|c| c.has_subcommands());
        if !path.is_empty() && !has_children && !doc.contains(&format!("\n### {path}\n")) {
            missing.push(format!("heading `### {path}`"));
        }
        for long in longs {
            if long == "help" || long == "version" {
                continue;
            }
            let option = format!("--{long}");
            let section = section_of(&doc, &path);
            if !section.contains(&option) && !global_section(&doc).contains(&option) {
                missing.push(format!("`{option}` of `convctl {path}`"));
            }
        }
    }
    assert!(missing.is_empty(), "docs/cli.md lacks: {missing:#?}");
}

/// The text under `### path` up to the next `### `, or the whole doc for the root command.
fn section_of<'a>(doc: &'a str, path: &str) -> &'a str {
    if path.is_empty() {
        return global_section(doc);
    }
    let heading = format!("\n### {path}\n");
    match doc.find(&heading) {
        Some(start) => {
            let body = &doc[start + heading.len()..];
            &body[..body.find("\n### ").unwrap_or(body.len())]
        }
        None => "",
    }
}

fn global_section(doc: &str) -> &str {
    let start = doc
        .find("## Global options")
        .expect("a Global options section");
    let body = &doc[start..];
    &body[..body.find("\n## Commands").unwrap_or(body.len())]
}

#[test]
fn cli_md_states_every_exit_code() {
    let doc = read_doc("cli.md");
    for code in ["| 0 |", "| 1 |", "| 2 |"] {
        assert!(doc.contains(code), "exit code row {code}");
    }
    assert_eq!(convctl::cli::exit::SUCCESS, 0);
    assert_eq!(convctl::cli::exit::ERROR, 1);
    assert_eq!(convctl::cli::exit::CHANGES, 2);
}

#[test]
fn troubleshooting_covers_every_graph_error() {
    let doc = read_doc("troubleshooting.md");
    let codes = [
        "190", "102", "458", "459", "460", "463", "464", "467", "100", "33", "200", "10", "368",
        "2635", "4", "17", "2446079", "32", "341", "613", "1487742", "80000", "80003", "80004",
        "80014", "1760005", "2804003",
    ];
    let missing: Vec<&str> = codes
        .iter()
        .copied()
        .filter(|code| {
            !doc.split(|c: char| !c.is_ascii_digit())
                .any(|word| word == *code)
        })
        .collect();
    assert!(
        missing.is_empty(),
        "troubleshooting.md lacks codes {missing:?}"
    );
    for phrase in [
        "appsecret_proof argument",
        "Invalid appsecret_proof",
        "fbtrace_id",
        "deprecated version",
    ] {
        assert!(doc.contains(phrase), "troubleshooting.md lacks {phrase:?}");
    }
}

#[test]
fn relative_links_point_at_existing_files() {
    let mut broken = Vec::new();
    for name in [
        "getting-started.md",
        "rules.md",
        "cli.md",
        "gitops.md",
        "troubleshooting.md",
    ] {
        let doc = read_doc(name);
        for (i, _) in doc.match_indices("](") {
            let rest = &doc[i + 2..];
            let target = &rest[..rest.find(')').unwrap()];
            if target.starts_with("http") || target.starts_with('#') {
                continue;
            }
            let file = target.split('#').next().unwrap();
            if !docs_dir().join(file).exists() {
                broken.push(format!("docs/{name}: {target}"));
            }
        }
    }
    assert!(broken.is_empty(), "broken links: {broken:?}");
}

#[test]
fn the_docs_shard_example_is_true() {
    let doc = read_doc("gitops.md");
    assert!(doc.contains("`73ab088b724e3bb0`"));
    let account = convctl::model::ids::AdAccountId::parse("act_1234567890").unwrap();
    assert!(
        convctl::reconcile::shard::Shard::parse("1/4")
            .unwrap()
            .contains(&account)
    );
}
