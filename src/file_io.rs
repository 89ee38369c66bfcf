//! File I/O every layer shares: reading a file a user names, bounded by what is read, and
//! writing a file so that a reader sees the old or the new one, never a torn one.
//!
//! [`read_input`] is the one way convctl reads a file a user names (manifests, saved plans,
//! token files, `events send --file`, the emulator's state): a regular file only
//! ([`open_input`]: a FIFO, a terminal or a device could keep it waiting forever or feed it
//! without end), read through [`read_limited`]: bounded by what is read, never by the size the
//! file reports (`/proc` files report 0), and stopping at the first NUL byte where asked,
//! which no text file convctl reads may contain. [`write_atomically`] is the one way it writes
//! one (saved plans, the emulator's state, imported manifests). [`FileId`] tells whether two
//! paths name one file (symlinks and hard links included), so that no output replaces an
//! input; [`StateLock`] keeps a state file to one process at a time.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// What a file is, for a message: `a FIFO (a pipe), not a regular file`.
pub(crate) fn kind_of(kind: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_char_device() || kind.is_block_device() {
            return "a device, not a regular file";
        }
        if kind.is_fifo() {
            return "a FIFO (a pipe), not a regular file";
        }
        if kind.is_socket() {
            return "a socket, not a regular file";
        }
    }
    if kind.is_dir() {
        "a directory"
    } else {
        "not a regular file"
    }
}

/// Why [`read_input`] read nothing usable.
#[derive(Debug)]
pub(crate) enum InputError {
    /// Not a regular file (after symlinks): what it is, as [`kind_of`] says.
    NotRegular(&'static str),
    /// Opening or reading failed, or the bounded read stopped.
    Read(LimitedRead),
}

impl std::fmt::Display for InputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            InputError::NotRegular(kind) => write!(
                f,
                "it is {kind}; convctl reads its inputs from regular files only (a pipe or a \
                 device could keep it waiting forever): save the content to a file first"
            ),
            InputError::Read(e) => e.fmt(f),
        }
    }
}

/// Opens a file a user names for reading: a regular file (a symlink to one is followed), or
/// [`InputError::NotRegular`]. The open itself never waits: a FIFO put in place of the file
/// after the check is opened without blocking and refused.
pub(crate) fn open_input(path: &Path) -> Result<std::fs::File, InputError> {
    let io = |e| InputError::Read(LimitedRead::Io(e));
    let meta = std::fs::metadata(path).map_err(io)?;
    if !meta.is_file() {
        return Err(InputError::NotRegular(kind_of(&meta.file_type())));
    }
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // Without it, opening a FIFO waits for a writer, forever if none comes.
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path).map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    if !meta.is_file() {
        return Err(InputError::NotRegular(kind_of(&meta.file_type())));
    }
    Ok(file)
}

/// Reads a file a user names: [`open_input`], then [`read_limited`].
pub(crate) fn read_input(
    path: &Path,
    limit: u64,
    stop_at_nul: bool,
) -> Result<Vec<u8>, InputError> {
    let file = open_input(path)?;
    read_limited(file, limit, stop_at_nul).map_err(InputError::Read)
}

/// A file's identity (device and inode on Unix): two paths with the same one name one file,
/// through symlinks (followed) and hard links alike.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct FileId {
    dev: u64,
    ino: u64,
}

impl FileId {
    /// The identity of the file `path` names; `None` when there is none (yet).
    #[cfg(unix)]
    pub(crate) fn of(path: &Path) -> Option<FileId> {
        use std::os::unix::fs::MetadataExt;
        let meta = std::fs::metadata(path).ok()?;
        Some(FileId {
            dev: meta.dev(),
            ino: meta.ino(),
        })
    }

    /// Elsewhere: the canonical path, hashed (hard links are not seen).
    #[cfg(not(unix))]
    pub(crate) fn of(path: &Path) -> Option<FileId> {
        use std::hash::{Hash, Hasher};
        let canonical = std::fs::canonicalize(path).ok()?;
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        canonical.hash(&mut hasher);
        Some(FileId {
            dev: 0,
            ino: hasher.finish(),
        })
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

/// An exclusive lock on a state file, held until dropped: one process at a time reads,
/// changes and saves it, so that two commands on one state never both report success while
/// only the last one's changes survive.
///
/// The lock is taken on `<state>.lock` beside the file, never on the file itself: every save
/// replaces the state file by a rename, and a lock on the old inode would not stop a process
/// that opens the new one. The lock file is never removed (removing it would let two processes
/// lock two different files of one name). std's `File::try_lock` (an advisory lock, `flock` on
/// Unix) does the locking: the kernel drops it when the process ends, however it ends, so a
/// killed command never leaves a stale lock. Waiting is bounded by polling it.
#[derive(Debug)]
pub(crate) struct StateLock {
    _file: std::fs::File,
}

/// Why [`StateLock::acquire`] has no lock.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("cannot create the lock file {} for {}: {error}", lock.display(), state.display())]
    Open {
        state: PathBuf,
        lock: PathBuf,
        error: std::io::Error,
    },
    #[error(
        "{} is in use by another convctl{} (its lock {} is held); waited {}: run the commands one after another",
        state.display(),
        holder.map(|pid| format!(" (process {pid})")).unwrap_or_default(),
        lock.display(),
        describe_wait(*waited)
    )]
    Busy {
        state: PathBuf,
        lock: PathBuf,
        holder: Option<u32>,
        waited: Duration,
    },
}

/// `10 s`, `2 s` (rounded), `300 ms`.
fn describe_wait(d: Duration) -> String {
    match d.as_millis() {
        ms if ms >= 1000 => format!("{} s", (ms + 500) / 1000),
        ms => format!("{ms} ms"),
    }
}

impl StateLock {
    /// How often a waiting process tries the lock again.
    const POLL: Duration = Duration::from_millis(50);

    /// `<state>.lock`.
    pub(crate) fn path_for(state: &Path) -> PathBuf {
        let mut name = state.as_os_str().to_os_string();
        name.push(".lock");
        PathBuf::from(name)
    }

    /// Locks `state` for this process, waiting at most `wait` for another process to let go.
    /// The directory is created when missing; the lock file holds the holder's process id
    /// (for the message another process gives while it waits).
    pub(crate) fn acquire(state: &Path, wait: Duration) -> Result<StateLock, LockError> {
        let lock = Self::path_for(state);
        let open_failed = |error| LockError::Open {
            state: state.to_path_buf(),
            lock: lock.clone(),
            error,
        };
        if let Some(dir) = lock.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(open_failed)?;
        }
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&lock)
            .map_err(open_failed)?;
        let started = Instant::now();
        loop {
            match file.try_lock() {
                Ok(()) => break,
                Err(std::fs::TryLockError::WouldBlock) if started.elapsed() < wait => {
                    std::thread::sleep(Self::POLL.min(wait.saturating_sub(started.elapsed())));
                }
                Err(std::fs::TryLockError::WouldBlock) => {
                    let holder = std::fs::read_to_string(&lock)
                        .ok()
                        .and_then(|t| t.trim().parse().ok());
                    return Err(LockError::Busy {
                        state: state.to_path_buf(),
                        lock,
                        holder,
                        waited: wait,
                    });
                }
                Err(std::fs::TryLockError::Error(error)) => return Err(open_failed(error)),
            }
        }
        // Best effort: the process id only makes the waiting message more helpful.
        let _ = file
            .set_len(0)
            .and_then(|()| write!(file, "{}", std::process::id()))
            .and_then(|()| file.flush());
        Ok(StateLock { _file: file })
    }
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
