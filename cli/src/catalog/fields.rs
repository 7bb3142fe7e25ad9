//! The fields of a payload, read from its bundled schema: path, type, whether required, the
//! constraints on it, its default and description, and whether it is sensitive. What a developer
//! looks for first on a contract's page, and what the version diff compares.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

/// One field of a payload.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Field {
    /// `items[].itemId`.
    pub path: String,
    /// `string`, `integer`, `array of object`, `one of: …`.
    pub kind: String,
    pub required: bool,
    /// `minimum 0`, `pattern ^[A-Z]{3}$`, `one of "a", "b"`.
    pub constraints: Vec<String>,
    pub default: Option<String>,
    pub description: Option<String>,
    pub sensitive: bool,
}

/// How deep nested objects are listed; recursive definitions stop at their first repetition.
const DEPTH: usize = 8;

/// The fields of `schema` (a bundled payload schema).
pub fn fields(schema: &Value) -> Vec<Field> {
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    walk(schema, schema, "", &mut out, &mut seen, 0);
    out
}

fn resolve<'a>(root: &'a Value, schema: &'a Value, seen: &mut BTreeSet<String>) -> Option<(&'a Value, Option<String>)> {
    let mut current = schema;
    let mut via = None;
    for _ in 0..16 {
        match current.get("$ref").and_then(Value::as_str) {
            Some(r) if r.starts_with('#') => {
                if seen.contains(r) {
                    return None;
                }
                via = Some(r.to_string());
                current = root.pointer(&r[1..])?;
            }
            _ => break,
        }
    }
    Some((current, via))
}

fn walk(root: &Value, schema: &Value, prefix: &str, out: &mut Vec<Field>, seen: &mut BTreeSet<String>, depth: usize) {
    if depth > DEPTH {
        return;
    }
    let Some((schema, via)) = resolve(root, schema, seen) else { return };
    if let Some(r) = &via {
        seen.insert(r.clone());
    }
    let Some(map) = schema.as_object() else { return };
    let required: BTreeSet<&str> =
        map.get("required").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect();
    // `allOf` parts add their properties to the same object.
    let mut parts: Vec<&Map<String, Value>> = vec![map];
    for part in map.get("allOf").and_then(Value::as_array).into_iter().flatten() {
        if let Some((p, _)) = resolve(root, part, seen) {
            if let Some(m) = p.as_object() {
                parts.push(m);
            }
        }
    }
    let required: BTreeSet<String> = parts
        .iter()
        .flat_map(|m| m.get("required").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str))
        .chain(required)
        .map(str::to_string)
        .collect();
    for part in parts {
        for (name, property) in part.get("properties").and_then(Value::as_object).into_iter().flatten() {
            let path = if prefix.is_empty() { name.clone() } else { format!("{prefix}.{name}") };
            let Some((resolved, _)) = resolve(root, property, seen) else {
                out.push(Field {
                    path,
                    kind: "(recursive)".into(),
                    required: required.contains(name),
                    constraints: Vec::new(),
                    default: None,
                    description: None,
                    sensitive: false,
                });
                continue;
            };
            out.push(describe(path.clone(), resolved, property, required.contains(name)));
            nested(root, resolved, &path, out, seen, depth);
        }
    }
    if let Some(r) = via {
        seen.remove(&r);
    }
}

/// Objects and arrays of objects list their own fields below their path.
fn nested(root: &Value, schema: &Value, path: &str, out: &mut Vec<Field>, seen: &mut BTreeSet<String>, depth: usize) {
    if schema.get("properties").is_some() || schema.get("allOf").is_some() {
        walk(root, schema, path, out, seen, depth + 1);
    }
    if let Some(items) = schema.get("items").filter(|i| i.is_object()) {
        if let Some((item, _)) = resolve(root, items, seen) {
            if item.get("properties").is_some() || item.get("allOf").is_some() {
                walk(root, items, &format!("{path}[]"), out, seen, depth + 1);
            }
        }
    }
}

fn describe(path: String, schema: &Value, written: &Value, required: bool) -> Field {
    let get = |k: &str| written.get(k).or_else(|| schema.get(k));
    Field {
        path,
        kind: kind(schema),
        required,
        constraints: constraints(schema),
        default: get("default").map(Value::to_string),
        description: get("description").and_then(Value::as_str).map(str::to_string),
        sensitive: get("x-sensitive").and_then(Value::as_bool).unwrap_or(false),
    }
}

fn kind(schema: &Value) -> String {
    let one = |s: &Value| -> String {
        match s.get("type") {
            Some(Value::String(t)) if t == "array" => {
                match s.get("items").and_then(|i| i.get("type")).and_then(Value::as_str) {
                    Some(item) => format!("array of {item}"),
                    None if s.get("items").and_then(|i| i.get("$ref")).is_some() => "array of object".into(),
                    None => "array".into(),
                }
            }
            Some(Value::String(t)) => t.clone(),
            Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(" or "),
            _ if s.get("$ref").is_some() || s.get("properties").is_some() => "object".into(),
            _ if s.get("enum").is_some() || s.get("const").is_some() => "value".into(),
            _ => "any".into(),
        }
    };
    for key in ["oneOf", "anyOf"] {
        if let Some(branches) = schema.get(key).and_then(Value::as_array) {
            let word = if key == "oneOf" { "one of" } else { "any of" };
            return format!("{word}: {}", branches.iter().map(one).collect::<Vec<_>>().join(", "));
        }
    }
    one(schema)
}

fn constraints(schema: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let Some(map) = schema.as_object() else { return out };
    for key in [
        "minimum",
        "exclusiveMinimum",
        "maximum",
        "exclusiveMaximum",
        "multipleOf",
        "minLength",
        "maxLength",
        "pattern",
        "format",
        "minItems",
        "maxItems",
        "uniqueItems",
        "minProperties",
        "maxProperties",
    ] {
        if let Some(v) = map.get(key) {
            let text = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            out.push(format!("{key} {text}"));
        }
    }
    if let Some(values) = map.get("enum").and_then(Value::as_array) {
        out.push(format!("one of {}", values.iter().map(Value::to_string).collect::<Vec<_>>().join(", ")));
    }
    if let Some(c) = map.get("const") {
        out.push(format!("exactly {c}"));
    }
    if map.get("additionalProperties") == Some(&Value::Bool(false)) {
        out.push("no other members".into());
    }
    out
}

/// What changed between two versions' fields.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldDiff {
    pub added: Vec<String>,
    pub removed: Vec<String>,
    /// (path, what changed).
    pub changed: Vec<(String, String)>,
}

pub fn diff(old: &[Field], new: &[Field]) -> FieldDiff {
    let added = new.iter().filter(|f| !old.iter().any(|o| o.path == f.path)).map(|f| f.path.clone()).collect();
    let removed = old.iter().filter(|o| !new.iter().any(|f| f.path == o.path)).map(|o| o.path.clone()).collect();
    let mut changed = Vec::new();
    for f in new {
        let Some(o) = old.iter().find(|o| o.path == f.path) else { continue };
        let mut what = Vec::new();
        if o.kind != f.kind {
            what.push(format!("type {} → {}", o.kind, f.kind));
        }
        if o.required != f.required {
            what.push(if f.required { "now required".to_string() } else { "now optional".to_string() });
        }
        if o.constraints != f.constraints {
            what.push(format!("constraints [{}] → [{}]", o.constraints.join("; "), f.constraints.join("; ")));
        }
        if o.default != f.default {
            what.push(format!(
                "default {} → {}",
                o.default.as_deref().unwrap_or("none"),
                f.default.as_deref().unwrap_or("none")
            ));
        }
        if !what.is_empty() {
            changed.push((f.path.clone(), what.join(", ")));
        }
    }
    FieldDiff { added, removed, changed }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nested_objects_arrays_and_references_are_listed() {
        let schema = json!({
            "type": "object", "required": ["id", "items"],
            "properties": {
                "id": {"type": "string", "pattern": "^O", "description": "the order"},
                "items": {"type": "array", "minItems": 1, "items": {"$ref": "#/definitions/Item"}},
                "email": {"type": "string", "format": "email", "x-sensitive": true}
            },
            "definitions": {"Item": {"type": "object", "required": ["sku"], "properties": {"sku": {"type": "string"}, "qty": {"type": "integer", "minimum": 1, "default": 1}}}}
        });
        let f = fields(&schema);
        let paths: Vec<&str> = f.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, ["email", "id", "items", "items[].qty", "items[].sku"]);
        assert!(f[0].sensitive && !f[0].required);
        assert_eq!(f[1].constraints, ["pattern ^O"]);
        assert_eq!(f[2].kind, "array of object");
        assert_eq!(f[3].default.as_deref(), Some("1"));
        assert!(f[4].required);
    }

    #[test]
    fn recursion_stops_and_the_diff_names_changes() {
        let tree = json!({"$ref": "#/definitions/Node", "definitions": {"Node": {"type": "object", "properties": {"kids": {"type": "array", "items": {"$ref": "#/definitions/Node"}}}}}});
        assert_eq!(fields(&tree).iter().map(|f| f.path.as_str()).collect::<Vec<_>>(), ["kids"]);
        let old =
            fields(&json!({"required": ["a"], "properties": {"a": {"type": "string"}, "b": {"type": "integer"}}}));
        let new = fields(&json!({"properties": {"a": {"type": "string", "minLength": 1}, "c": {"type": "boolean"}}}));
        let d = diff(&old, &new);
        assert_eq!(d.added, ["c"]);
        assert_eq!(d.removed, ["b"]);
        assert_eq!(d.changed, [("a".to_string(), "now optional, constraints [] → [minLength 1]".to_string())]);
    }
}
