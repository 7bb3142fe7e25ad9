//! The compatibility gate: every version of a subject is compared with the versions before it,
//! under the subject's mode, with the Confluent Schema Registry's meaning of each mode.
//!
//! A minor version (1.0 → 1.1) must pass; a major one (1.x → 2.0) may break, and its breaks are
//! reported as warnings. The mode is set per file with `"x-compatibility": "FULL"` (the mode that
//! version is held to against its predecessors), or for the whole registry with `compatibility`
//! in `[package.metadata.events]`; BACKWARD when neither says.
//!
//! ```
//! use events_codegen::compat::{reads, Rule};
//! use serde_json::json;
//!
//! let old = json!({"type": "object", "additionalProperties": false, "properties": {"id": {"type": "string"}}});
//! let new = json!({"type": "object", "additionalProperties": false, "required": ["id", "currency"],
//!                  "properties": {"id": {"type": "string"}, "currency": {"type": "string"}}});
//! // BACKWARD: can the new schema read what the old one allowed?
//! let found = reads(&new, &old);
//! assert_eq!(found.iter().map(|f| f.rule).collect::<Vec<_>>(), [Rule::OptionalMadeRequired, Rule::RequiredAdded]);
//! ```

mod report;
mod rules;
mod schema;

pub use crate::registry::Mode;
pub use report::{report, Incompatibility, PairReport, Report, SubjectReport, Verdict};
pub use rules::{reads, Finding, Rule};

impl Mode {
    /// Why `old` → `new` fails under this mode: each finding with the direction that failed.
    ///
    /// ```
    /// use events_codegen::compat::{Direction, Mode};
    /// use serde_json::json;
    ///
    /// let old = json!({"type": "string", "enum": ["a", "b"]});
    /// let new = json!({"type": "string", "enum": ["a", "b", "c"]});
    /// assert!(Mode::Backward.check(&old, &new).is_empty()); // new readers know "a" and "b"
    /// let broken = Mode::Full.check(&old, &new);
    /// assert_eq!(broken[0].0, Direction::Forward); // old readers do not know "c"
    /// ```
    pub fn check(self, old: &serde_json::Value, new: &serde_json::Value) -> Vec<(Direction, Finding)> {
        let mut out = Vec::new();
        if self.backward() {
            out.extend(reads(new, old).into_iter().map(|f| (Direction::Backward, f)));
        }
        if self.forward() {
            out.extend(reads(old, new).into_iter().map(|f| (Direction::Forward, f)));
        }
        out
    }
}

/// Which reading failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// The newer version could not read the older one's data.
    Backward,
    /// The older version could not read the newer one's data.
    Forward,
}

/// The consecutive versions of each subject where the newer reads everything the older allows:
/// those get a generated conversion. `bundles` holds one entry per file of
/// [`Registry::files`](crate::registry::Registry::files).
pub fn upcasts<'r>(
    registry: &'r crate::registry::Registry,
    bundles: &[Option<crate::bundle::Bundle>],
) -> Vec<(&'r crate::registry::SchemaFile, &'r crate::registry::SchemaFile)> {
    let mut next = bundles.iter();
    let mut out = Vec::new();
    for s in &registry.subjects {
        let versions: Vec<_> = s.versions.iter().map(|f| (f, next.next().and_then(Option::as_ref))).collect();
        for pair in versions.windows(2) {
            let [(old, Some(old_b)), (new, Some(new_b))] = pair else { continue };
            let same_kind = std::mem::discriminant(&old.contract.kind) == std::mem::discriminant(&new.contract.kind);
            // The conversion fills defaults in: each must meet its schema, or the result would not.
            if same_kind
                && reads(&new_b.schema, &old_b.schema).is_empty()
                && defaults_hold(&new_b.schema, &new_b.schema)
            {
                out.push((*old, *new));
            }
        }
    }
    out
}

/// Whether every property `default` in `schema` (a part of the bundled `root`) meets its property's
/// schema.
fn defaults_hold(root: &serde_json::Value, schema: &serde_json::Value) -> bool {
    use serde_json::Value;
    match schema {
        Value::Object(m) => m.iter().all(|(k, v)| match (k.as_str(), v) {
            ("properties", Value::Object(props)) => props
                .values()
                .all(|p| p.get("default").is_none_or(|d| schema::validates(root, p, d)) && defaults_hold(root, p)),
            ("enum" | "const" | "default" | "examples", _) => true,
            _ => defaults_hold(root, v),
        }),
        Value::Array(items) => items.iter().all(|i| defaults_hold(root, i)),
        _ => true,
    }
}
