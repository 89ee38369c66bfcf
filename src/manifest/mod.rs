//! Manifests (format `convctl/v1`, spec section 1): YAML files → the desired model.
//!
//! Owns reading files and directories, multi-document YAML, defaults, normalisation and every
//! offline check (unknown keys, enums, ids, rule grammar, duplicates, the 100 cap, lints).
//! Every entry and rule keeps the [`Location`] it came from, so that every error can name file,
//! line and column. It never touches the network.

mod model;

pub use model::*;
