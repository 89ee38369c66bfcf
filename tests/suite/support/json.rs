//! Walking a JSON document, for the tests that damage one node of an answer or a plan file.

use serde_json::Value;

/// Calls `f` on every node, depth first, until it says true; whether it did.
pub fn walk(v: &mut Value, f: &mut dyn FnMut(&mut Value) -> bool) -> bool {
    if f(v) {
        return true;
    }
    match v {
        Value::Array(items) => items.iter_mut().any(|x| walk(x, f)),
        Value::Object(map) => map.values_mut().any(|x| walk(x, f)),
        _ => false,
    }
}
