//! The plan file: `plan --out` saves the document atomically, `apply --plan` and `--show`
//! load it, with errors that say what is wrong with the file and how to get a good one.

use super::{FORMAT_VERSION, PlanDocument, Summary};
use crate::file_io::{Existing, kind_of, write_atomically};
use serde::Deserialize;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// Saved plans larger than this are refused on load: 500 accounts of 100 replacements each are
/// about 150 MB of JSON.
pub(crate) const MAX_PLAN_BYTES: u64 = 512 << 20;

impl PlanDocument {
    /// Writes the document to `path` atomically (a temporary file next to the target, then a
    /// rename), so that a crash never leaves half a plan for `apply --plan` to execute.
    ///
    /// The target is `path`, or what a symlink at `path` points to (followed: the link stays,
    /// the file it names is replaced). It must be a regular file or not exist yet: a directory,
    /// a device (`/dev/full`, `/dev/null`), a FIFO or a socket is refused, never replaced by a
    /// plain file. A replaced file keeps its permissions.
    pub(crate) fn save(&self, path: &Path) -> Result<(), PlanFileError> {
        let err = |source: std::io::Error| PlanFileError::Io {
            path: path.to_path_buf(),
            source,
        };
        let target = save_target(path)?;
        write_atomically(&target, Existing::Replace, |w| self.write_json(w))
            .map_err(|e| err(e.into_io()))
    }

    /// Reads a saved plan, refusing files that are not plans or come from another format.
    /// A regular file only, read bounded ([`MAX_PLAN_BYTES`]; a device or a FIFO fails at once).
    pub fn load(path: &Path) -> Result<PlanDocument, PlanFileError> {
        use crate::file_io::{InputError, LimitedRead, read_input};
        let io = |source| PlanFileError::Io {
            path: path.to_path_buf(),
            source,
        };
        let invalid = |reason: PlanTextError| PlanFileError::Invalid {
            path: path.to_path_buf(),
            reason,
        };
        let bytes = match read_input(path, MAX_PLAN_BYTES, true) {
            Ok(bytes) => bytes,
            Err(InputError::Read(LimitedRead::Io(e))) => return Err(io(e)),
            Err(e) => return Err(invalid(PlanTextError::NotText(e.to_string()))),
        };
        let text = String::from_utf8(bytes).map_err(|e| {
            invalid(PlanTextError::NotUtf8 {
                offset: e.utf8_error().valid_up_to(),
            })
        })?;
        PlanDocument::from_json_str(&text).map_err(invalid)
    }

    /// Parses a plan document, checking its version first so that a foreign file gets a clear
    /// answer rather than a serde error about some field.
    ///
    /// The text is read three times rather than once into a `serde_json::Value`: as a `Value`, a
    /// saved plan of 50,000 creates would take some ten times its size in memory.
    pub(crate) fn from_json_str(text: &str) -> Result<PlanDocument, PlanTextError> {
        serde_json::from_str::<serde::de::IgnoredAny>(text).map_err(PlanTextError::NotJson)?;
        /// Only the version, every other field skipped (anything but an object has none).
        #[derive(Deserialize)]
        struct Version {
            /// `None` only when absent (`null` is a version this convctl does not read).
            #[serde(default, deserialize_with = "present")]
            format_version: Option<Value>,
        }
        fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
            Value::deserialize(d).map(Some)
        }
        // An object only: serde would also read a struct from an array (`[1]`).
        let version = match text.trim_start().starts_with('{') {
            true => serde_json::from_str::<Version>(text)
                .ok()
                .and_then(|v| v.format_version),
            false => None,
        };
        match version {
            None => return Err(PlanTextError::NoVersion),
            Some(v) if v.as_u64() != Some(u64::from(FORMAT_VERSION)) => {
                return Err(PlanTextError::Version(v));
            }
            Some(_) => {}
        }
        let doc: PlanDocument = serde_json::from_str(text).map_err(PlanTextError::Damaged)?;
        if doc.summary != Summary::of(&doc.accounts) {
            return Err(PlanTextError::SummaryMismatch);
        }
        Ok(doc)
    }
}

/// Refuses a `--out` path `save` would refuse, before the plan is made: a device, a directory
/// or a symlink that leads nowhere is told with nothing done, not after the plan was printed.
pub fn check_save_target(path: &Path) -> Result<(), PlanFileError> {
    save_target(path).map(drop)
}

/// Where `save` writes for `path`: `path` itself when it is a regular file or does not exist,
/// the file a symlink points to (followed to the end) when that is one; anything else refused.
fn save_target(path: &Path) -> Result<PathBuf, PlanFileError> {
    let refuse = |reason: String| PlanFileError::Refused {
        path: path.to_path_buf(),
        reason,
    };
    let meta = match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(path.to_path_buf()),
        Err(source) => {
            return Err(PlanFileError::Io {
                path: path.to_path_buf(),
                source,
            });
        }
        Ok(meta) => meta,
    };
    if meta.file_type().is_symlink() {
        let target = std::fs::canonicalize(path).map_err(|e| {
            refuse(format!(
                "it is a symlink that leads nowhere ({e}); --out follows symlinks to a regular file only"
            ))
        })?;
        return match std::fs::metadata(&target) {
            Ok(m) if m.is_file() => Ok(target),
            Ok(m) => Err(refuse(format!(
                "it is a symlink to {}, which is {}; --out follows symlinks to a regular file only",
                target.display(),
                kind_of(&m.file_type())
            ))),
            Err(source) => Err(PlanFileError::Io {
                path: path.to_path_buf(),
                source,
            }),
        };
    }
    if meta.is_file() {
        Ok(path.to_path_buf())
    } else {
        Err(refuse(format!(
            "it is {}; --out writes a plan only to a regular file (replaced atomically) or a new path",
            kind_of(&meta.file_type())
        )))
    }
}

/// A plan file that cannot be saved or used.
#[derive(Debug, thiserror::Error)]
pub enum PlanFileError {
    #[error("cannot access plan file {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} is not a usable plan: {reason}", path.display())]
    Invalid {
        path: PathBuf,
        reason: PlanTextError,
    },
    #[error("will not write the plan to {}: {reason}", path.display())]
    Refused { path: PathBuf, reason: String },
}

/// Why a text is not a plan this convctl can execute; each says how to get one that is.
#[derive(Debug, thiserror::Error)]
pub enum PlanTextError {
    /// Too large, or binary (a NUL byte): what the bounded read says.
    #[error("{0}; a plan is JSON text saved with `convctl plan --out`")]
    NotText(String),
    #[error(
        "not UTF-8 text (invalid byte at offset {offset}); was it saved with `convctl plan --out`?"
    )]
    NotUtf8 { offset: usize },
    #[error("not JSON ({0}); was it saved with `convctl plan --out`?")]
    NotJson(serde_json::Error),
    #[error("no `format_version`: not a convctl plan (save one with `convctl plan --out FILE`)")]
    NoVersion,
    #[error(
        "format_version {0} is not supported (this convctl reads {FORMAT_VERSION}); make the plan again with this convctl"
    )]
    Version(Value),
    #[error("damaged plan ({0}); make the plan again")]
    Damaged(serde_json::Error),
    #[error("its summary does not match its actions (edited by hand?); make the plan again")]
    SummaryMismatch,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ids::{AdAccountId, ObjectId};
    use crate::plan::{AccountPlan, Action, DeleteReason, seal};

    #[test]
    fn documents_round_trip_and_refuse_foreign_files() {
        let mut account = AccountPlan {
            account: AdAccountId::parse("act_1").unwrap(),
            source: "conversions/a.yaml".into(),
            live_fingerprint: String::new(),
            digest: None,
            actions: vec![Action::Delete {
                id: ObjectId::parse("3").unwrap(),
                name: "D".into(),
                set: Some("ecommerce".into()),
                set_entry: Some("Purchase".into()),
                reason: DeleteReason::Absent,
                before: None,
                frees_rule_for: None,
                flagged: false,
            }],
            unmanaged: vec![],
            warnings: vec![],
            refusals: vec![],
            safety: None,
            token_env: None,
            notes: vec![],
            retired: vec![],
            info: vec![],
        };
        seal(&mut account, &[]);
        let doc = PlanDocument::new("v26.0", vec![account]);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/plan.json");
        doc.save(&path).unwrap();
        assert_eq!(PlanDocument::load(&path).unwrap(), doc);

        let foreign = doc
            .to_json()
            .replace("\"format_version\": 1", "\"format_version\": 9");
        assert!(
            PlanDocument::from_json_str(&foreign)
                .unwrap_err()
                .to_string()
                .contains("format_version 9")
        );
        assert!(
            PlanDocument::from_json_str("{\"a\":1}")
                .unwrap_err()
                .to_string()
                .contains("not a convctl plan")
        );
        for not_an_object in ["[1]", "7", "\"plan\"", "null"] {
            assert!(
                PlanDocument::from_json_str(not_an_object)
                    .unwrap_err()
                    .to_string()
                    .contains("not a convctl plan"),
                "{not_an_object}"
            );
        }
        assert!(
            PlanDocument::from_json_str("{\"format_version\": null}")
                .unwrap_err()
                .to_string()
                .contains("format_version null is not supported")
        );
        let damaged = PlanDocument::from_json_str("{\"format_version\": 1, \"accounts\": 7}")
            .unwrap_err()
            .to_string();
        assert!(damaged.starts_with("damaged plan ("), "{damaged}");
        assert!(
            PlanDocument::from_json_str("{trunc")
                .unwrap_err()
                .to_string()
                .contains("not JSON")
        );
        let tampered = doc.to_json().replace("\"delete\": 1", "\"delete\": 0");
        assert!(
            PlanDocument::from_json_str(&tampered)
                .unwrap_err()
                .to_string()
                .contains("summary")
        );
        let err = PlanDocument::load(&dir.path().join("missing.json")).unwrap_err();
        assert!(err.to_string().contains("missing.json"));
    }
}
