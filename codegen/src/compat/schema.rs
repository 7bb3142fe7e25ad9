//! What the comparison needs to know about single schemas: keyword families, bounds, and which
//! schema governs a property.

use serde_json::{Map, Value};

use crate::keywords::only_annotations;

/// Keywords this module compares with a rule of their own.
pub(super) const HANDLED: [&str; 32] = [
    "$ref",
    "type",
    "enum",
    "const",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "minProperties",
    "maxProperties",
    "minContains",
    "maxContains",
    "pattern",
    "format",
    "uniqueItems",
    "required",
    "properties",
    "patternProperties",
    "additionalProperties",
    "unevaluatedProperties",
    "items",
    "prefixItems",
    "additionalItems",
    "anyOf",
    "oneOf",
    "not",
    "nullable",
];

/// A schema as a keyword map; `true` is the empty map, `false` is `None`.
pub(super) fn keywords(schema: &Value) -> Option<Map<String, Value>> {
    match schema {
        Value::Bool(true) => Some(Map::new()),
        Value::Object(m) => Some(m.clone()),
        _ => None,
    }
}

/// Whether a schema accepts every value: no keyword but annotations.
pub(super) fn accepts_all(schema: &Value) -> bool {
    match schema {
        Value::Bool(b) => *b,
        Value::Object(m) => only_annotations(m),
        _ => false,
    }
}

pub(super) use crate::ident::escape as esc;

pub(super) fn of(m: &Map<String, Value>) -> Option<(&'static str, Vec<Value>)> {
    ["anyOf", "oneOf"].into_iter().find_map(|k| m.get(k).and_then(Value::as_array).map(|b| (k, b.clone())))
}

pub(super) fn without_branches(m: &Map<String, Value>) -> Map<String, Value> {
    m.iter().filter(|(k, _)| *k != "anyOf" && *k != "oneOf").map(|(k, v)| (k.clone(), v.clone())).collect()
}

/// `type` as a list, or `None` when any type goes.
pub(super) fn type_set(m: &Map<String, Value>) -> Option<Vec<String>> {
    let mut types: Vec<String> = match m.get("type")? {
        Value::String(t) => vec![t.clone()],
        Value::Array(ts) => ts.iter().filter_map(|t| t.as_str().map(str::to_string)).collect(),
        _ => return None,
    };
    // OpenAPI-style `nullable` widens the type.
    if m.get("nullable") == Some(&Value::Bool(true)) {
        types.push("null".into());
    }
    Some(types)
}

pub(super) fn string_set(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

/// The lower (or upper) numeric bound: value, exclusive, and the keyword that set it.
pub(super) fn bound(m: &Map<String, Value>, lower: bool) -> Option<(f64, bool, &'static str)> {
    let (inclusive, exclusive) = if lower { ("minimum", "exclusiveMinimum") } else { ("maximum", "exclusiveMaximum") };
    let inc = m.get(inclusive).and_then(Value::as_f64);
    let draft4_exclusive = m.get(exclusive) == Some(&Value::Bool(true));
    let exc = m.get(exclusive).and_then(Value::as_f64);
    let candidates = [
        inc.map(|v| (v, draft4_exclusive, if draft4_exclusive { exclusive } else { inclusive })),
        exc.map(|v| (v, true, exclusive)),
    ];
    candidates.into_iter().flatten().reduce(|a, b| {
        let b_tighter = if lower { b.0 > a.0 || (b.0 == a.0 && b.1) } else { b.0 < a.0 || (b.0 == a.0 && b.1) };
        if b_tighter {
            b
        } else {
            a
        }
    })
}

pub(super) fn matches(pattern: &str, name: &str) -> bool {
    regress::Regex::new(pattern).map(|re| re.find(name).is_some()).unwrap_or(false)
}

/// The schema a property `name` outside `properties` gets: from `patternProperties`, else from
/// `additionalProperties`; `None` when it is refused.
pub(super) fn extra_for(m: &Map<String, Value>, p: &str, name: &str) -> Option<(Value, String)> {
    if let Some(patterns) = m.get("patternProperties").and_then(Value::as_object) {
        if let Some((pattern, s)) = patterns.iter().find(|(pattern, _)| matches(pattern, name)) {
            return Some((s.clone(), format!("{p}/patternProperties/{}", esc(pattern))));
        }
    }
    additional(m, p)
}

/// Every `patternProperties` schema whose pattern matches `name`.
pub(super) fn matching_patterns(m: &Map<String, Value>, p: &str, name: &str) -> Vec<(Value, String)> {
    m.get("patternProperties")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter(|(pattern, _)| matches(pattern, name))
        .map(|(pattern, s)| (s.clone(), format!("{p}/patternProperties/{}", esc(pattern))))
        .collect()
}

/// `additionalProperties` (or, failing it, `unevaluatedProperties`): `None` when closed.
pub(super) fn additional(m: &Map<String, Value>, p: &str) -> Option<(Value, String)> {
    let (key, s) = ["additionalProperties", "unevaluatedProperties"]
        .into_iter()
        .find_map(|k| m.get(k).map(|s| (k, s.clone())))
        .unwrap_or(("additionalProperties", Value::Bool(true)));
    match s {
        Value::Bool(false) => None,
        s => Some((s, format!("{p}/{key}"))),
    }
}

/// Whether `value` meets `schema`, a part of the bundled document `root` (its `$ref`s point into
/// the root's `definitions`), with the validator's own semantics.
pub(super) fn validates(root: &Value, schema: &Value, value: &Value) -> bool {
    let mut doc = Map::new();
    for key in ["$schema", "definitions"] {
        if let Some(v) = root.get(key) {
            doc.insert(key.into(), v.clone());
        }
    }
    doc.insert("allOf".into(), Value::Array(vec![schema.clone()]));
    // A schema the validator cannot compile proves nothing: count the value as refused.
    jsonschema::options().should_validate_formats(true).build(&Value::Object(doc)).is_ok_and(|v| v.is_valid(value))
}

/// Whether a draft before 2019-09 is in force, where keywords beside `$ref` are ignored.
pub(super) fn legacy_ref(root: &Value) -> bool {
    root.get("$schema").and_then(Value::as_str).is_some_and(|s| s.contains("draft-0"))
}

/// Whether a schema mentions `$ref` anywhere.
pub(super) fn has_ref(schema: &Value) -> bool {
    match schema {
        Value::Object(m) => m.contains_key("$ref") || m.values().any(has_ref),
        Value::Array(items) => items.iter().any(has_ref),
        _ => false,
    }
}
