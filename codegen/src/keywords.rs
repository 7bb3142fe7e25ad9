//! Keyword families that the passes reading schemas (compatibility, typify's copy, typed checks)
//! share, so that they agree on what constrains a value.

use serde_json::{Map, Value};

/// Keywords that describe without constraining a value.
/// (`contentEncoding` and `contentMediaType` are not among them: drafts 6 and 7 assert them.)
const ANNOTATIONS: [&str; 13] = [
    "title",
    "description",
    "default",
    "examples",
    "$comment",
    "$schema",
    "$id",
    "id",
    "definitions",
    "$defs",
    "readOnly",
    "writeOnly",
    "deprecated",
];

/// Whether a keyword only describes: an annotation, or an `x-` extension of the registry.
pub(crate) fn is_annotation(keyword: &str) -> bool {
    ANNOTATIONS.contains(&keyword) || keyword.starts_with("x-")
}

/// Whether a schema object says nothing that constrains a value.
pub(crate) fn only_annotations(schema: &Map<String, Value>) -> bool {
    schema.keys().all(|k| is_annotation(k))
}

/// The names `required` lists (strings only; anything else is the meta-schema check's concern).
pub(crate) fn required_names(schema: &Map<String, Value>) -> Vec<String> {
    schema
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|r| r.as_str().map(str::to_string))
        .collect()
}
