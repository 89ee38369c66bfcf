//! The text of the manifest lines that findings point at, read again when the findings are
//! printed (bounded like every read of a user's file), so that each finding can quote its line.
//! A file that cannot be read again simply shows no line.

use crate::file_io::read_input;
use crate::manifest::files::MAX_FILE_BYTES;
use crate::manifest::{Diagnostic, Location};
use crate::render::findings;
use std::collections::HashMap;
use std::path::PathBuf;

/// Files read so far, each as its lines (`None`: unreadable).
#[derive(Default)]
pub(crate) struct SourceLines {
    files: HashMap<PathBuf, Option<Vec<String>>>,
}

impl SourceLines {
    /// The text of the line `location` names.
    pub(crate) fn line(&mut self, location: &Location) -> Option<String> {
        let lines = self
            .files
            .entry(location.file.clone())
            .or_insert_with(|| read_lines(&location.file));
        lines.as_ref()?.get(location.line.checked_sub(1)?).cloned()
    }

    /// Every diagnostic as text, each with its source line.
    pub(crate) fn render(&mut self, diags: &[Diagnostic]) -> Vec<String> {
        diags
            .iter()
            .map(|d| findings::text(d, &mut |l| self.line(l)))
            .collect()
    }
}

/// A regular file's lines (never a FIFO or a device, which could block or never end: the
/// one opener of inputs refuses them).
fn read_lines(path: &std::path::Path) -> Option<Vec<String>> {
    let bytes = read_input(path, MAX_FILE_BYTES, true).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    Some(text.lines().map(str::to_string).collect())
}
