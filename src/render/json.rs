//! The json rendering: the plan document itself (docs/reconcile.md, "The plan document"),
//! pretty-printed.

use crate::plan::PlanDocument;
use std::io;

pub fn render(doc: &PlanDocument) -> String {
    doc.to_json()
}

/// The same JSON, written to `out` as it is serialised.
pub(crate) fn render_to(out: &mut impl io::Write, doc: &PlanDocument) -> io::Result<()> {
    doc.write_json(out)
}
