//! File I/O every layer shares: reading a file a user names, bounded by what is read, and
//! writing a file so that a reader sees the old or the new one, never a torn one.
//!
//! [`read_limited`] is the one way convctl reads a file a user names (manifests, saved plans,
//! `events send --file`): bounded by what is read, never by the size the file reports
//! (`/dev/zero`, a FIFO and `/proc` files report 0), and stopping at the first NUL byte where
//! asked, which no text file convctl reads may contain. [`write_atomically`] is the one way it
//! writes one (saved plans, the emulator's state, imported manifests).

use std::io::Write;
use std::path::{Path, PathBuf};

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

/// What [`write_atomically`] does when the file exists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Existing {
    /// Replace it (keeping its permissions).
    Replace,
    /// Refuse: the file is left as it is ([`AtomicWriteError::Exists`]).
    Keep,
}

/// Why [`write_atomically`] wrote nothing.
#[derive(Debug, thiserror::Error)]
pub(crate) enum AtomicWriteError {
    #[error("cannot create the directory {}: {error}", dir.display())]
    CreateDir {
        dir: PathBuf,
        #[source]
        error: std::io::Error,
    },
    #[error("{} exists already", path.display())]
    Exists { path: PathBuf },
    #[error("cannot write {}: {error}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        error: std::io::Error,
    },
}

impl AtomicWriteError {
    /// The I/O error underneath (an existing file reads as `AlreadyExists`).
    pub(crate) fn into_io(self) -> std::io::Error {
        match self {
            AtomicWriteError::CreateDir { error, .. } | AtomicWriteError::Write { error, .. } => {
                error
            }
            AtomicWriteError::Exists { path } => std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                format!("{} exists already", path.display()),
            ),
        }
    }
}

/// Writes `path` through a temporary file in the same directory (created if missing), synced
/// to disk, then renamed over it: a reader (or a crash) sees the old file or the new one, never
/// a torn one. Each write has a temporary file of its own (tempfile picks a unique name), so
/// two writers that overlap (the emulator's debounced saver and its final save) never rename
/// each other's file away. With [`Existing::Keep`] the rename refuses to replace a file that
/// appeared meanwhile.
pub(crate) fn write_atomically(
    path: &Path,
    existing: Existing,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), AtomicWriteError> {
    if existing == Existing::Keep && path.exists() {
        return Err(AtomicWriteError::Exists {
            path: path.to_path_buf(),
        });
    }
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|error| AtomicWriteError::CreateDir {
        dir: dir.to_path_buf(),
        error,
    })?;
    let failed = |error| AtomicWriteError::Write {
        path: path.to_path_buf(),
        error,
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".convctl-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(failed)?;
    if existing == Existing::Replace
        && let Ok(meta) = std::fs::metadata(path)
    {
        tmp.as_file()
            .set_permissions(meta.permissions())
            .map_err(failed)?;
    }
    let mut out = std::io::BufWriter::new(tmp.as_file_mut());
    write(&mut out).map_err(failed)?;
    out.flush().map_err(failed)?;
    drop(out);
    tmp.as_file().sync_all().map_err(failed)?;
    match existing {
        Existing::Replace => tmp.persist(path).map(drop),
        Existing::Keep => tmp.persist_noclobber(path).map(drop),
    }
    .map_err(|e| {
        if e.error.kind() == std::io::ErrorKind::AlreadyExists {
            AtomicWriteError::Exists {
                path: path.to_path_buf(),
            }
        } else {
            failed(e.error)
        }
    })
}

#[cfg(test)]
mod tests {
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

    #[test]
    fn a_write_replaces_or_keeps_as_asked_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/out.txt");
        write_atomically(&path, Existing::Keep, |w| w.write_all(b"one")).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"one");
        let kept = write_atomically(&path, Existing::Keep, |w| w.write_all(b"two"));
        assert!(
            matches!(kept, Err(AtomicWriteError::Exists { .. })),
            "{kept:?}"
        );
        assert_eq!(std::fs::read(&path).unwrap(), b"one");
        write_atomically(&path, Existing::Replace, |w| w.write_all(b"three")).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"three");
        let failed = write_atomically(&path, Existing::Replace, |_| {
            Err(std::io::Error::other("the writer failed"))
        });
        assert!(
            matches!(failed, Err(AtomicWriteError::Write { .. })),
            "{failed:?}"
        );
        assert_eq!(
            std::fs::read(&path).unwrap(),
            b"three",
            "a failed write changes nothing"
        );
        let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["out.txt"]);
    }

    #[cfg(unix)]
    #[test]
    fn a_replaced_file_keeps_its_permissions() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plan.json");
        std::fs::write(&path, "old").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        write_atomically(&path, Existing::Replace, |w| w.write_all(b"new")).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o640);
    }
}
