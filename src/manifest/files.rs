//! Finding and reading manifest files: a path is a file or a directory (recursed, `*.yaml` and
//! `*.yml`, sorted so that runs are repeatable). Reading refuses what cannot be a manifest (too
//! big, not UTF-8) with a message that says so. It never parses YAML.
//!
//! Also [`read_limited`], the one way convctl reads a file a user names (manifests, saved
//! plans, `events send --file`): bounded by what is read, never by the size the file reports
//! (`/dev/zero`, a FIFO and `/proc` files report 0), and stopping at the first NUL byte, which
//! no text file convctl reads may contain.

use super::desired::{Diagnostic, Location, Severity};
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

/// Iterative walk (no recursion: a hostile tree cannot exhaust the stack); symlinked
/// directories are not followed, so a link cycle cannot loop.
fn walk(root: &Path, out: &mut Vec<PathBuf>, errors: &mut Vec<Diagnostic>) {
    let mut todo = vec![root.to_path_buf()];
    while let Some(dir) = todo.pop() {
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
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                todo.push(path);
            } else if is_manifest_name(&path) && (kind.is_file() || path.is_file()) {
                out.push(path);
            }
        }
    }
}

/// Why [`read_limited`] stopped.
#[derive(Debug)]
pub(crate) enum LimitedRead {
    Io(std::io::Error),
    /// More than the limit (in bytes) could be read; `nul`: what was read held a NUL byte.
    TooLarge {
        limit: u64,
        nul: bool,
    },
    /// A NUL byte at `offset`; `prefix` holds what came before it (for a line and column).
    Nul {
        offset: usize,
        prefix: Vec<u8>,
    },
}

impl std::fmt::Display for LimitedRead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LimitedRead::Io(e) => write!(f, "cannot read it: {e}"),
            LimitedRead::TooLarge { limit, .. } => write!(
                f,
                "it is larger than {} (reading stopped there)",
                describe_bytes(*limit)
            ),
            LimitedRead::Nul { offset, .. } => write!(
                f,
                "it contains a NUL byte (at offset {offset}), so it is not a text file"
            ),
        }
    }
}

/// `4 MiB`, `512 MiB`, `100 KiB`.
pub(crate) fn describe_bytes(n: u64) -> String {
    match n {
        n if n >= 1 << 20 && n % (1 << 20) == 0 => format!("{} MiB", n >> 20),
        n if n >= 1 << 10 && n % (1 << 10) == 0 => format!("{} KiB", n >> 10),
        n => format!("{n} bytes"),
    }
}

/// Reads everything `reader` gives, up to `limit` bytes: one byte more is [`TooLarge`]; with
/// `stop_at_nul`, a NUL byte is [`Nul`] as soon as it is read (so `/dev/zero` fails on its first
/// block; an endless stream of text at the limit). Memory is bounded by the limit.
///
/// [`TooLarge`]: LimitedRead::TooLarge
/// [`Nul`]: LimitedRead::Nul
pub(crate) fn read_limited(
    reader: impl std::io::Read,
    limit: u64,
    stop_at_nul: bool,
) -> Result<Vec<u8>, LimitedRead> {
    use std::io::Read;
    let mut reader = reader.take(limit.saturating_add(1));
    let mut out = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    let mut saw_nul = false;
    loop {
        let n = match reader.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(LimitedRead::Io(e)),
        };
        if let Some(at) = chunk[..n]
            .iter()
            .position(|b| *b == 0)
            .filter(|_| stop_at_nul)
        {
            let offset = out.len() + at;
            out.extend_from_slice(&chunk[..at]);
            return Err(LimitedRead::Nul {
                offset,
                prefix: out,
            });
        }
        saw_nul |= chunk[..n].contains(&0);
        out.extend_from_slice(&chunk[..n]);
        if out.len() as u64 > limit {
            return Err(LimitedRead::TooLarge {
                limit,
                nul: saw_nul,
            });
        }
    }
    Ok(out)
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
    let file = std::fs::File::open(path).map_err(cannot)?;
    // Not stopped at a NUL: 4 MiB is quickly read, and a file that is not UTF-8 is reported as
    // such first, wherever its NUL bytes are.
    let bytes = match read_limited(file, MAX_FILE_BYTES, false) {
        Ok(bytes) => bytes,
        Err(LimitedRead::Io(e)) => return Err(cannot(e)),
        // Too large, and binary at that (`/dev/zero`): say what it is, not only how big.
        Err(LimitedRead::TooLarge { nul: true, .. }) => {
            return Err(nul_error(path, &[]));
        }
        Err(LimitedRead::TooLarge { .. }) => {
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
        Err(LimitedRead::Nul { prefix, .. }) => return Err(nul_error(path, &prefix)),
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
    use std::io::Read;

    #[test]
    fn reads_are_bounded_by_what_is_read() {
        let zeros = std::io::repeat(0).take(10 << 20);
        match read_limited(zeros, 4 << 20, true) {
            Err(LimitedRead::Nul { offset: 0, prefix }) => assert!(prefix.is_empty()),
            other => panic!("{other:?}"),
        }
        // An endless stream of text stops one byte past the limit.
        match read_limited(std::io::repeat(b' '), 1000, true) {
            Err(LimitedRead::TooLarge {
                limit: 1000,
                nul: false,
            }) => {}
            other => panic!("{other:?}"),
        }
        assert_eq!(read_limited(&b"ab\ncd"[..], 5, true).unwrap(), b"ab\ncd");
        assert!(matches!(
            read_limited(&b"ab\ncd"[..], 4, true),
            Err(LimitedRead::TooLarge { .. })
        ));
        match read_limited(&b"ab\nc\0d"[..], 100, true) {
            Err(LimitedRead::Nul { offset: 4, prefix }) => assert_eq!(prefix, b"ab\nc"),
            other => panic!("{other:?}"),
        }
        assert_eq!(describe_bytes(512 << 20), "512 MiB");
    }

    #[cfg(unix)]
    #[test]
    fn dev_zero_is_refused_at_once() {
        let started = std::time::Instant::now();
        let e = read(Path::new("/dev/zero")).unwrap_err();
        assert!(e.message.contains("NUL byte"), "{e}");
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
    }
}
