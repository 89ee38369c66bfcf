//! The json rendering: the plan document itself (spec section 4), pretty-printed.

use crate::plan::PlanDocument;

pub fn render(doc: &PlanDocument) -> String {
    doc.to_json()
}
