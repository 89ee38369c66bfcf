//! `import`: live accounts → manifests, one file per account, every live (non-archived)
//! conversion with its id pinned and its rule as a readable YAML mapping, written with the
//! manifest format's own serde types so that `plan` on the result reports no changes.
//!
//! It never writes to the API and never overwrites an existing manifest (a user's file is
//! worth more than an import); files are written atomically.

use crate::file_io::{AtomicWriteError, Existing, write_atomically};
use crate::manifest::format::{self, ConversionEntry, IdText, ManifestDocument, RuleText};
use crate::model::LiveConversion;
use crate::model::ids::AdAccountId;
use crate::model::names;
use crate::rule::{Rule, canonical_json};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// One account's manifest text and what the user should know about it.
#[derive(Debug)]
pub(crate) struct Imported {
    pub(crate) yaml: String,
    pub(crate) conversions: usize,
    /// Things the user must fix or know (unparseable rules, duplicate names, unknown enums).
    pub(crate) warnings: Vec<String>,
}

/// What an import writes entries for: live conversions, sorted by name then id, without the
/// archived ones (Meta no longer tracks them) and without the ones convctl retired (renamed
/// `[retired YYYY-MM-DD] ...`: they wait to be archived in Events Manager, and a manifest may
/// not declare such a name). The retired ones left out are named in a warning.
pub(super) fn importable<'a>(
    account: &AdAccountId,
    live: &'a [LiveConversion],
    warnings: &mut Vec<String>,
) -> Vec<&'a LiveConversion> {
    let (retired, mut active): (Vec<&LiveConversion>, Vec<&LiveConversion>) = live
        .iter()
        .filter(|c| !c.is_archived)
        .partition(|c| c.retired_on().is_some());
    if !retired.is_empty() {
        let ids: Vec<String> = retired.iter().map(|c| c.id.to_string()).collect();
        warnings.push(format!(
            "{account}: {} conversion(s) convctl retired are left out (ids {}): archive them in Events Manager",
            retired.len(),
            ids.join(", ")
        ));
    }
    active.sort_by(|a, b| (&a.name, &a.id).cmp(&(&b.name, &b.id)));
    active
}

/// Builds the manifest of `account` from its live conversions (see [`importable`]).
pub(crate) fn manifest_for(account: &AdAccountId, live: &[LiveConversion]) -> Imported {
    let mut warnings = Vec::new();
    let active = importable(account, live, &mut warnings);

    let mut by_name: HashMap<&str, Vec<String>> = HashMap::new();
    for c in &active {
        if let Some(name) = &c.name {
            by_name
                .entry(names::stored(name))
                .or_default()
                .push(c.id.to_string());
        }
    }
    let mut duplicates: Vec<(&&str, &Vec<String>)> =
        by_name.iter().filter(|(_, ids)| ids.len() > 1).collect();
    duplicates.sort();
    for (name, ids) in duplicates {
        warnings.push(format!(
            "{account}: {} live conversions are named \"{name}\" (ids {}); names must be unique in a manifest: rename all but one in the file (the id pins keep them apart), and `plan` will rename them live",
            ids.len(),
            ids.join(", ")
        ));
    }

    let conversions = active
        .iter()
        .map(|c| entry_for(account, c, &mut warnings))
        .collect::<Vec<_>>();
    let doc = ManifestDocument {
        version: Some(1),
        account: IdText::Text(account.to_string()),
        defaults: None,
        prune: None,
        deletion: None,
        token_env: None,
        safety: None,
        uses: Vec::new(),
        conversions,
    };
    let body = format::to_yaml(&doc);
    let yaml = format!(
        "# Imported by `convctl import {account}`: ids are pinned, so renames here are safe.\n{body}"
    );
    Imported {
        yaml,
        conversions: active.len(),
        warnings,
    }
}

pub(super) fn entry_for(
    account: &AdAccountId,
    c: &LiveConversion,
    warnings: &mut Vec<String>,
) -> ConversionEntry {
    // Written as the API stores names (trimmed): a live name with edge spaces is the same name
    // to plan, and a manifest name may not have them. A name the API did not report (or a
    // blank one) stays unknown to plan (never a rename): the entry gets a placeholder, pinned
    // by id, and the user is told to write the real name.
    let name = c
        .name
        .as_deref()
        .map(names::stored)
        .filter(|n| !n.is_empty())
        .map(str::to_string);
    let name = name.unwrap_or_else(|| {
        warnings.push(format!(
            "{account}: the API did not report the name of conversion {0}; it is written as \"Unnamed conversion {0}\", pinned by id: put its real name in the manifest",
            c.id
        ));
        format!("Unnamed conversion {}", c.id)
    });
    let what = format!("{account}: \"{name}\" ({})", c.id);
    let custom_event_type = match c.custom_event_type.as_deref().map(str::parse) {
        Some(Ok(t)) => Some(t),
        Some(Err(e)) => {
            warnings.push(format!(
                "{what}: custom_event_type {e}; set it in the manifest"
            ));
            None
        }
        None => {
            warnings.push(format!(
                "{what}: the API did not report custom_event_type; set it in the manifest"
            ));
            None
        }
    };
    let action_source_type = match c.action_source_type.as_deref().map(str::parse) {
        Some(Ok(t)) => Some(t),
        Some(Err(e)) => {
            warnings.push(format!(
                "{what}: action_source_type {e}; left out (not managed)"
            ));
            None
        }
        None => None,
    };
    let rule = c
        .rule
        .as_deref()
        .map(|text| match Rule::from_json_str(text) {
            Ok(rule) => RuleText::from_rule(&rule),
            Err(e) => {
                warnings.push(format!(
                    "{what}: its rule does not parse ({e}); kept as the API's JSON text"
                ));
                RuleText::Json(text.to_string())
            }
        });
    let advanced_rule = c
        .advanced_rule
        .as_deref()
        .filter(|_| rule.is_none())
        .map(|text| {
            serde_json::from_str(text)
                .map(|v| canonical_json(&v))
                .unwrap_or_else(|_| serde_json::Value::String(text.to_string()))
        });
    if rule.is_none() && advanced_rule.is_none() {
        warnings.push(format!(
            "{what}: the API did not report its rule; add `rule:` to the manifest"
        ));
    }
    if c.is_unavailable {
        warnings.push(format!(
            "{what} is unavailable: Meta flagged its name as suggesting health or financial status; rename it here to make it usable"
        ));
    }
    ConversionEntry {
        name: Some(name),
        id: Some(IdText::Text(c.id.to_string())),
        description: c.description.clone().filter(|d| !d.is_empty()),
        custom_event_type,
        default_conversion_value: c.default_conversion_value.filter(|v| *v != 0.0),
        rule,
        advanced_rule,
        event_source_id: c.event_source_id.clone().map(IdText::Text),
        action_source_type,
        ..Default::default()
    }
}

/// The comment that tells YAML language servers (VS Code's YAML extension and others) which
/// schema a document follows. It covers the document it is in only, so every document of a
/// file needs its own.
pub(crate) fn schema_modeline(schema: &str) -> String {
    format!("# yaml-language-server: $schema={schema}\n")
}

/// `yaml` with the schema modeline at the top of every document.
pub(crate) fn with_modeline(yaml: &str, schema: &str) -> String {
    let line = schema_modeline(schema);
    let mut out = line.clone();
    for text in yaml.split_inclusive('\n') {
        out.push_str(text);
        if text.trim_end() == "---" {
            out.push_str(&line);
        }
    }
    out
}

/// What the modeline of a manifest written into `dir` points to: the path from `dir` to the
/// nearest `schema.json` in it or above it (up to the top of its git repository), else
/// `../schema.json` (a copy at the top of a repository whose manifests are in `conversions/`).
pub(crate) fn schema_ref(dir: &Path) -> String {
    let start = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
    let mut up = String::new();
    for ancestor in start.ancestors() {
        if ancestor.join("schema.json").is_file() {
            return format!("{up}schema.json");
        }
        if ancestor.join(".git").exists() {
            break; // the top of the repository
        }
        up.push_str("../");
    }
    "../schema.json".to_string()
}

/// `DIR/act_<digits>.yaml`.
pub(crate) fn manifest_path(dir: &Path, account: &AdAccountId) -> PathBuf {
    dir.join(format!("{account}.yaml"))
}

/// A manifest `import` could not write.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error(
        "{} already exists; convctl import never overwrites a manifest: move it away or pass another --out",
        .0.display()
    )]
    Exists(PathBuf),
    #[error("cannot write {}: {error}", .path.display())]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
}

/// Writes `text` to `path` atomically, refusing to replace an existing file.
pub(crate) fn write_new(path: &Path, text: &str) -> Result<(), WriteError> {
    write_atomically(path, Existing::Keep, |w| w.write_all(text.as_bytes())).map_err(|e| match e {
        AtomicWriteError::Exists { path } => WriteError::Exists(path),
        other => WriteError::Io {
            path: path.to_path_buf(),
            error: other.into_io(),
        },
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_document_gets_the_modeline() {
        let yaml = "a: 1\n---\nb: 2\n---\nc: 3\n";
        let out = with_modeline(yaml, "../schema.json");
        assert_eq!(
            out.matches("# yaml-language-server: $schema=../schema.json\n")
                .count(),
            3,
            "{out}"
        );
        assert!(
            out.starts_with("# yaml-language-server: $schema=../schema.json\na: 1\n---\n# yaml")
        );
    }

    #[test]
    fn the_modeline_points_at_the_nearest_schema() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join(".git")).unwrap();
        let out = dir.path().join("conversions/clients");
        assert_eq!(schema_ref(&out), "../schema.json", "none: the fallback");
        std::fs::write(dir.path().join("schema.json"), "{}").unwrap();
        assert_eq!(schema_ref(&out), "../../schema.json");
        std::fs::create_dir_all(&out).unwrap();
        std::fs::write(out.join("schema.json"), "{}").unwrap();
        assert_eq!(schema_ref(&out), "schema.json");
    }

    use super::*;
    use crate::model::ids::ObjectId;

    fn live(id: &str, name: &str, rule: &str) -> LiveConversion {
        LiveConversion {
            id: ObjectId::parse(id).unwrap(),
            name: Some(name.into()),
            description: Some("d".into()),
            rule: Some(rule.into()),
            advanced_rule: None,
            custom_event_type: Some("PURCHASE".into()),
            event_source_id: Some("55".into()),
            action_source_type: Some("website".into()),
            default_conversion_value: Some(12.0),
            is_archived: false,
            is_unavailable: false,
            creation_time: None,
            first_fired_time: None,
            last_fired_time: None,
        }
    }

    #[test]
    fn imported_manifests_load_back_and_match_live() {
        let account = AdAccountId::parse("act_7").unwrap();
        let mut archived = live("3", "Gone", "{\"url\":{\"eq\":\"x\"}}");
        archived.is_archived = true;
        let lives = vec![
            live(
                "1",
                "Buy",
                r#"{"and":[{"event":{"eq":"Purchase"}},{"value":{"gt":100.0}}]}"#,
            ),
            live(
                "2",
                "Thanks: \"quoted\" #1",
                r#"{"url":{"i_contains":"thank\/you"}}"#,
            ),
            archived,
        ];
        let imported = manifest_for(&account, &lives);
        assert_eq!(imported.conversions, 2);
        assert!(imported.warnings.is_empty(), "{:?}", imported.warnings);
        assert!(
            imported.yaml.contains("id: '1'") || imported.yaml.contains("id: \"1\""),
            "{}",
            imported.yaml
        );
        assert!(
            imported.yaml.contains("and:"),
            "rules are YAML mappings:\n{}",
            imported.yaml
        );
        let manifests = crate::manifest::load_str(Path::new("act_7.yaml"), &imported.yaml)
            .unwrap_or_else(|d| panic!("{d:?}\n{}", imported.yaml));
        let plan =
            crate::diff::diff_account(&manifests.accounts[0], &lives, &Default::default()).unwrap();
        assert!(plan.actions.is_empty(), "{:?}", plan.actions);
    }

    #[test]
    fn never_overwrites() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/act_1.yaml");
        write_new(&path, "x").unwrap();
        assert!(
            write_new(&path, "y")
                .unwrap_err()
                .to_string()
                .contains("never overwrites")
        );
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "x");
    }
}
