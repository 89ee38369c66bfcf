//! Finding and reading manifest files: a path is a file or a directory (recursed, `*.yaml` and
//! `*.yml`, sorted so that runs are repeatable). Reading refuses what cannot be a manifest (too
//! big, not UTF-8, not a regular file) with a message that says so, reading through
//! [`read_input`]. It never parses YAML.

use super::desired::{Diagnostic, Location, Severity};
use crate::file_io::{InputError, LimitedRead, read_input};
use std::path::{Path, PathBuf};

/// Files larger than this are refused: a full account (100 conversions with rules and tests) is
/// about 50 KB, so anything this big is a mistake (or an attack), not a manifest.
pub(crate) const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;

fn error(file: Option<&Path>, message: String, hint: &str) -> Diagnostic {
    Diagnostic {
        severity: Severity::Error,
        location: file.map(|f| Location {
            file: f.to_path_buf(),
            line: 1,
            column: 1,
        }),
        message,
        hint: Some(hint.to_string()),
    }
}

fn is_manifest_name(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml")
    )
}

/// The manifest files under `paths`, in order: each argument in turn, a directory's files
/// sorted by path. A file named explicitly is taken whatever its extension.
pub(crate) fn collect(paths: &[PathBuf], errors: &mut Vec<Diagnostic>) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for path in paths {
        match std::fs::metadata(path) {
            Err(e) => errors.push(error(
                None,
                format!("cannot read `{}`: {e}", path.display()),
                "pass a manifest file or a directory of *.yaml files (default: conversions/)",
            )),
            Ok(meta) if meta.is_dir() => {
                let before = out.len();
                walk(path, &mut out, errors);
                out[before..].sort();
                if out.len() == before {
                    errors.push(error(
                        None,
                        format!("no *.yaml or *.yml files in directory `{}`", path.display()),
                        "point convctl at the directory that holds your manifests",
                    ));
                }
            }
            Ok(_) => out.push(path.clone()),
        }
    }
    // The same file named twice (a file and its directory) is read once.
    let mut seen = std::collections::HashSet::new();
    out.retain(|p| seen.insert(std::fs::canonicalize(p).unwrap_or_else(|_| p.clone())));
    out
}

/// Iterative walk (no recursion: a hostile tree cannot exhaust the stack). Symlinked
/// directories are followed, each directory walked once (by its canonical path): a second way
/// to a directory already walked adds nothing, and a link back to a directory above it (a
/// loop) is an error naming the link, so that no account in the tree is ever skipped without a
/// word. A link named like a manifest that leads nowhere is an error too; a FIFO, device or
/// socket named like one is listed, and refused when read.
fn walk(root: &Path, out: &mut Vec<PathBuf>, errors: &mut Vec<Diagnostic>) {
    let canonical = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    let mut walked = std::collections::HashSet::new();
    let mut todo = vec![(root.to_path_buf(), canonical(root))];
    while let Some((dir, real)) = todo.pop() {
        if !walked.insert(real.clone()) {
            continue;
        }
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) => {
                errors.push(error(
                    None,
                    format!("cannot read directory `{}`: {e}", dir.display()),
                    "check the directory's permissions",
                ));
                continue;
            }
        };
        for entry in entries {
            let entry = match entry {
                Ok(entry) => entry,
                Err(e) => {
                    errors.push(error(
                        None,
                        format!("cannot read directory `{}`: {e}", dir.display()),
                        "check the directory's permissions",
                    ));
                    continue;
                }
            };
            let path = entry.path();
            let kind = match entry.file_type() {
                Ok(kind) => kind,
                Err(e) => {
                    errors.push(error(
                        None,
                        format!("cannot read `{}`: {e}", path.display()),
                        "check the file's permissions",
                    ));
                    continue;
                }
            };
            if kind.is_dir() {
                todo.push((path, real.join(entry.file_name())));
            } else if kind.is_symlink() {
                follow_link(&path, &real, &mut todo, out, errors);
            } else if is_manifest_name(&path) {
                out.push(path);
            }
        }
    }
}

/// A symbolic link met in a walk of the directory whose canonical path is `real_parent`.
fn follow_link(
    path: &Path,
    real_parent: &Path,
    todo: &mut Vec<(PathBuf, PathBuf)>,
    out: &mut Vec<PathBuf>,
    errors: &mut Vec<Diagnostic>,
) {
    // Emacs keeps `.#name.yaml` links to nowhere while a file is edited: never a manifest.
    let editor_lock = path
        .file_name()
        .is_some_and(|n| n.to_string_lossy().starts_with(".#"));
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_dir() => match std::fs::canonicalize(path) {
            Ok(target) if real_parent.starts_with(&target) => errors.push(error(
                None,
                format!(
                    "`{}` is a symbolic link to `{}`, a directory that holds it: a loop",
                    path.display(),
                    target.display()
                ),
                "remove the link, or point it at a directory outside the one it is in",
            )),
            Ok(target) => todo.push((path.to_path_buf(), target)),
            Err(e) => errors.push(error(
                None,
                format!("cannot follow the symbolic link `{}`: {e}", path.display()),
                "fix or remove the link",
            )),
        },
        Ok(_) if is_manifest_name(path) => out.push(path.to_path_buf()),
        Ok(_) => {}
        Err(e) if is_manifest_name(path) && !editor_lock => errors.push(error(
            None,
            format!(
                "`{}` is a symbolic link that leads nowhere ({e})",
                path.display()
            ),
            "fix the link, or remove it if the manifest it named is gone",
        )),
        Err(_) => {}
    }
}

/// Reads one manifest as text, or explains why it cannot be one.
pub(crate) fn read(path: &Path) -> Result<String, Diagnostic> {
    let cannot = |e: std::io::Error| {
        error(
            Some(path),
            format!("cannot read the file: {e}"),
            "check that it exists and is readable",
        )
    };
    // Not stopped at a NUL: 4 MiB is quickly read, and a file that is not UTF-8 is reported as
    // such first, wherever its NUL bytes are.
    let bytes = match read_input(path, MAX_FILE_BYTES, false) {
        Ok(bytes) => bytes,
        Err(e @ InputError::NotRegular(_)) => {
            return Err(error(
                Some(path),
                format!("cannot read the file: {e}"),
                "a manifest is a YAML text file: point convctl at the file itself",
            ));
        }
        Err(InputError::Read(e)) => match e {
            LimitedRead::Io(e) => return Err(cannot(e)),
            // Too large, and binary at that: say what it is, not only how big.
            LimitedRead::TooLarge { nul: true, .. } => {
                return Err(nul_error(path, &[]));
            }
            LimitedRead::TooLarge { .. } => {
                return Err(error(
                    Some(path),
                    format!(
                        "the file is larger than {0} MB (reading stopped there); manifests are \
                         limited to {0} MB (a full account of 100 conversions is about 50 KB)",
                        MAX_FILE_BYTES / (1024 * 1024)
                    ),
                    "is this the right file? split large manifests into one file per account",
                ));
            }
            LimitedRead::Nul { prefix, .. } => return Err(nul_error(path, &prefix)),
        },
    };
    if let Some(at) = bytes.iter().position(|b| *b == 0)
        && std::str::from_utf8(&bytes).is_ok()
    {
        return Err(nul_error(path, &bytes[..at]));
    }
    let text = String::from_utf8(bytes).map_err(|e| {
        let offset = e.utf8_error().valid_up_to();
        Diagnostic {
            severity: Severity::Error,
            location: Some(location_after(path, &e.as_bytes()[..offset])),
            message: format!("the file is not UTF-8 text (invalid byte at offset {offset})"),
            hint: Some(
                "manifests are YAML text files saved as UTF-8; is this a binary file?".into(),
            ),
        }
    })?;
    Ok(text
        .strip_prefix('\u{feff}')
        .map(str::to_string)
        .unwrap_or(text))
}

/// The line and column just after `prefix` (the start of a file's text).
fn location_after(path: &Path, prefix: &[u8]) -> Location {
    let line = prefix.iter().filter(|b| **b == b'\n').count() + 1;
    let column = prefix.len()
        - prefix
            .iter()
            .rposition(|b| *b == b'\n')
            .map_or(0, |p| p + 1)
        + 1;
    Location {
        file: path.to_path_buf(),
        line,
        column,
    }
}

/// A NUL byte after `prefix`: where, as a line and column.
fn nul_error(path: &Path, prefix: &[u8]) -> Diagnostic {
    Diagnostic {
        severity: Severity::Error,
        location: Some(location_after(path, prefix)),
        message: "the file contains a NUL byte, so it is not a YAML text file".into(),
        hint: Some("is this a binary file? manifests are YAML text".into()),
    }
}

#[cfg(test)]
mod limited {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn devices_are_refused_at_once() {
        let e = read(Path::new("/dev/zero")).unwrap_err();
        assert!(e.message.contains("a device, not a regular file"), "{e}");
    }
}
