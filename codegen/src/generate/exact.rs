//! The copy of a schema typify reads, narrowed to what typify's types hold exactly.
//!
//! A typed payload must accept whatever the schema accepts and encode it back as it came. typify
//! narrows some constructs (`{"pattern": "…"}` applies to strings only, yet becomes a `String`; a
//! tuple becomes a fixed-size Rust tuple; an optional nullable property loses its `null`). So, in
//! typify's copy only, each such part is widened: keywords that only restrict values are dropped
//! (the validator checks them on the schema as written), and a part typify cannot hold exactly
//! becomes `{}`, a `serde_json::Value`. The rest stays typed. A widened type never refuses a valid
//! value, and every value decodes and encodes unchanged.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Map, Value};

use crate::ident::{escape as esc, field_name, unescape, PRELUDE_NAMES};
use crate::keywords::{is_annotation, only_annotations, required_names};

/// Keywords that only ever refuse values: typify's copy can go without them.
const RESTRICTING: [&str; 28] = [
    "not",
    "if",
    "then",
    "else",
    "dependencies",
    "dependentRequired",
    "dependentSchemas",
    "propertyNames",
    "contains",
    "minContains",
    "maxContains",
    "unevaluatedProperties",
    "unevaluatedItems",
    "patternProperties",
    "additionalItems",
    "prefixItems",
    "minProperties",
    "maxProperties",
    "minItems",
    "maxItems",
    "uniqueItems",
    "multipleOf",
    "format",
    "pattern",
    "contentSchema",
    "contentEncoding",
    "contentMediaType",
    "$anchor",
];

/// Keywords that apply to one type only.
const TYPE_SPECIFIC: [&str; 10] = [
    "properties",
    "required",
    "additionalProperties",
    "items",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
];

/// typify's copy of `bundled`, and the places kept as `serde_json::Value`, each with why.
pub(super) fn for_typify(bundled: &Value) -> (Value, Vec<String>) {
    let mut copy = bundled.clone();
    let defs: Map<String, Value> = copy.get("definitions").and_then(Value::as_object).cloned().unwrap_or_default();
    let mut n = Narrow { defs, untyped: Vec::new() };
    if let Some(map) = copy.as_object_mut() {
        if let Some(Value::Object(defs)) = map.get_mut("definitions") {
            for (name, def) in defs.iter_mut() {
                n.node(def, &format!("/definitions/{}", esc(name)));
            }
        }
    }
    let defs = copy.as_object_mut().and_then(|m| m.remove("definitions"));
    n.node(&mut copy, "");
    if let (Some(defs), Some(map)) = (defs, copy.as_object_mut()) {
        map.insert("definitions".into(), defs);
    }
    (copy, n.untyped)
}

/// Whether typify's copy lost everything: the payload is then a `serde_json::Value` as a whole.
pub(super) fn whole(copy: &Value) -> bool {
    match copy {
        Value::Bool(_) => true,
        Value::Object(m) => only_annotations(m),
        _ => true,
    }
}

struct Narrow {
    /// The bundled definitions, as written, to look into `$ref`s.
    defs: Map<String, Value>,
    untyped: Vec<String>,
}

fn show(at: &str) -> &str {
    if at.is_empty() {
        "the root"
    } else {
        at
    }
}

/// An `enum`/`const` value typify turns into a Rust value and back unchanged.
fn plain_string(v: &Value) -> bool {
    v.as_str().is_some_and(|s| !s.is_empty() && !s.chars().any(char::is_control))
}

fn types(m: &Map<String, Value>) -> Option<Vec<String>> {
    match m.get("type")? {
        Value::String(t) => Some(vec![t.clone()]),
        Value::Array(ts) => Some(ts.iter().filter_map(|t| t.as_str().map(str::to_string)).collect()),
        _ => None,
    }
}

impl Narrow {
    fn untype(&mut self, v: &mut Value, at: &str, why: String) {
        self.untyped.push(format!("{}: {why}", show(at)));
        *v = json!({});
    }

    /// The schema `v` stands for, `$ref`s to definitions followed.
    fn resolved(&self, v: &Value) -> Value {
        let mut at = v.clone();
        for _ in 0..16 {
            let name = at.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix("#/definitions/"));
            match name.and_then(|n| self.defs.get(&unescape(n))) {
                Some(target) => at = target.clone(),
                None => break,
            }
        }
        at
    }

    /// Whether a (property's) schema lets `null` through.
    fn allows_null(&self, v: &Value) -> bool {
        match self.resolved(v) {
            Value::Bool(b) => b,
            Value::Object(m) => match types(&m) {
                Some(ts) => ts.iter().any(|t| t == "null"),
                None => match (m.get("enum"), m.get("const")) {
                    (Some(Value::Array(vs)), _) => vs.contains(&Value::Null),
                    (None, Some(c)) => c.is_null(),
                    _ => true,
                },
            },
            _ => false,
        }
    }

    fn node(&mut self, v: &mut Value, at: &str) {
        if let Value::Bool(_) = v {
            // `true` is any value; `false` lets nothing through, so any type is wide enough.
            *v = json!({});
            return;
        }
        let Some(m) = v.as_object_mut() else { return };
        m.remove("$id");
        m.remove("id");
        // Items after a tuple follow `items`, those in it do not: the whole array is JSON then.
        if m.contains_key("prefixItems") {
            m.remove("items");
        }
        // Names the patterns govern are no longer named anywhere: the type must let them through.
        if m.contains_key("patternProperties") || m.get("unevaluatedProperties") == Some(&Value::Bool(false)) {
            if m.contains_key("patternProperties") {
                m.remove("additionalProperties");
            }
        }
        for k in RESTRICTING {
            m.remove(k);
        }
        // `$ref` beside other keywords: both apply, as an `allOf` would.
        if m.contains_key("$ref") && m.keys().any(|k| k != "$ref" && !is_annotation(k)) {
            let target = m.remove("$ref").expect("checked");
            let rest = Value::Object(std::mem::take(m));
            *m = Map::from_iter([("allOf".to_string(), json!([{ "$ref": target }, rest]))]);
        }
        if m.contains_key("allOf") {
            if let Err(why) = self.merge_all_of(m) {
                return self.untype(v, at, why);
            }
        }
        for key in ["anyOf", "oneOf"] {
            if let Some(Value::Array(branches)) = m.get(key) {
                // Branches that only require properties pick among values the rest already allows.
                let restricting = branches.iter().all(|b| {
                    b.as_object().is_some_and(|b| {
                        b.keys().all(|k| k == "required" || RESTRICTING.contains(&k.as_str()) || is_annotation(k))
                    })
                });
                if restricting {
                    m.remove(key);
                } else {
                    return self.untype(v, at, format!("`{key}`"));
                }
            }
        }
        if m.contains_key("$ref") {
            return; // its definition is narrowed on its own
        }
        let Some(ts) = types(m) else {
            return self.untyped_node(v, at);
        };
        let mut non_null: Vec<String> = ts.iter().filter(|t| *t != "null").cloned().collect();
        non_null.dedup();
        if non_null.len() > 1 || ts.is_empty() {
            return self.untype(v, at, "several types".into());
        }
        for key in ["enum", "const"] {
            let plain = match m.get(key) {
                None => true,
                Some(Value::Array(vs)) if key == "enum" => vs.iter().all(|x| plain_string(x) || x.is_null()),
                Some(c) => plain_string(c),
            };
            if !plain {
                // The type holds these values; the validator keeps to the listed ones.
                m.remove(key);
            }
        }
        match non_null.first().map(String::as_str).unwrap_or("null") {
            "object" => self.object(v, at),
            "array" => match m.get_mut("items") {
                Some(Value::Array(_)) => {
                    m.remove("items"); // a tuple: typify's fixed-size tuples refuse shorter arrays
                }
                Some(items) => {
                    let mut items = std::mem::take(items);
                    self.node(&mut items, &format!("{at}/items"));
                    m.insert("items".into(), items);
                }
                None => {}
            },
            _ => {}
        }
    }

    /// No `type`: typed only when `enum`/`const` of plain strings fixes the values.
    fn untyped_node(&mut self, v: &mut Value, at: &str) {
        let Some(m) = v.as_object() else { return };
        let values: Option<Vec<&Value>> = match (m.get("enum"), m.get("const")) {
            (Some(Value::Array(vs)), _) => Some(vs.iter().collect()),
            (None, Some(c)) => Some(vec![c]),
            _ => None,
        };
        let constraining: Vec<&String> = m.keys().filter(|k| !is_annotation(k)).collect();
        if constraining.is_empty() {
            return;
        }
        match values {
            Some(vs)
                if vs.iter().all(|x| plain_string(x)) && constraining.iter().all(|k| *k == "enum" || *k == "const") => {
            }
            Some(_) => self.untype(v, at, "an `enum` of several types".into()),
            None if constraining.iter().any(|k| TYPE_SPECIFIC.contains(&k.as_str())) => {
                self.untype(v, at, "no `type`: its keywords constrain some types and let the others through".into())
            }
            None => {}
        }
    }

    fn object(&mut self, v: &mut Value, at: &str) {
        let Some(m) = v.as_object_mut() else { return };
        let mut props = m.remove("properties").and_then(|p| p.as_object().cloned()).unwrap_or_default();
        let mut open = false;
        // Properties that must be absent: the validator refuses them; the type need not name them.
        props.retain(|_, s| s != &Value::Bool(false));
        // Two names typify would turn into one Rust field: both stay in the open part.
        let mut by_field: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for name in props.keys() {
            by_field.entry(field_name(name)).or_default().push(name.clone());
        }
        for (field, names) in by_field {
            if names.len() > 1 || field.is_empty() {
                for name in names {
                    props.remove(&name);
                    self.untyped.push(format!("{}/properties/{}: its Rust field name is taken", show(at), esc(&name)));
                }
                open = true;
            }
        }
        if let Some(Value::Array(required)) = m.get_mut("required") {
            required.retain(|r| r.as_str().is_some_and(|r| props.contains_key(r)));
        }
        let required: BTreeSet<String> = required_names(m).into_iter().collect();
        match m.get_mut("additionalProperties") {
            Some(Value::Bool(_)) | None => {}
            Some(extra) if props.is_empty() => {
                let mut extra = std::mem::take(extra);
                self.node(&mut extra, &format!("{at}/additionalProperties"));
                m.insert("additionalProperties".into(), extra);
            }
            Some(_) => open = true,
        }
        if open {
            // What the type no longer names goes to its map of other properties.
            m.remove("additionalProperties");
        }
        for (name, s) in props.iter_mut() {
            let inner = format!("{at}/properties/{}", esc(name));
            if !required.contains(name) && self.allows_null(s) {
                // typify folds an absent and a null optional property into one `None`.
                if !(s.is_object() && whole(s)) {
                    self.untyped.push(format!("{inner}: an optional property that may be null"));
                }
                *s = json!({});
                continue;
            }
            self.node(s, &inner);
        }
        if !props.is_empty() {
            m.insert("properties".into(), Value::Object(props));
        }
    }

    /// Merges `allOf` branches into `m` when they simply add up; otherwise says why not.
    fn merge_all_of(&self, m: &mut Map<String, Value>) -> Result<(), String> {
        let Some(Value::Array(branches)) = m.remove("allOf") else { return Ok(()) };
        for branch in branches {
            let branch = self.resolved(&branch);
            let Value::Object(b) = branch else {
                if branch == Value::Bool(true) {
                    continue;
                }
                return Err("an `allOf` branch that is `false`".into());
            };
            if b.contains_key("allOf") || b.contains_key("$ref") {
                return Err("nested `allOf`".into());
            }
            for (k, val) in b {
                if is_annotation(&k) || RESTRICTING.contains(&k.as_str()) {
                    continue;
                }
                match (k.as_str(), m.get_mut(&k)) {
                    (_, None) => {
                        m.insert(k, val);
                    }
                    ("properties", Some(Value::Object(props))) => {
                        for (name, s) in val.as_object().cloned().unwrap_or_default() {
                            match props.get(&name) {
                                Some(existing) if *existing != s => {
                                    return Err(format!("`allOf` branches that both describe `{name}`"))
                                }
                                _ => {
                                    props.insert(name, s);
                                }
                            }
                        }
                    }
                    ("required", Some(Value::Array(names))) => {
                        for n in val.as_array().cloned().unwrap_or_default() {
                            if !names.contains(&n) {
                                names.push(n);
                            }
                        }
                    }
                    (_, Some(existing)) if *existing == val => {}
                    _ => return Err(format!("`allOf` branches that disagree on `{k}`")),
                }
            }
        }
        // One branch closing its own properties does not close the others': keep the model open.
        if m.get("additionalProperties") == Some(&Value::Bool(false)) {
            m.remove("additionalProperties");
        }
        Ok(())
    }
}

/// Removes `format`, `pattern`, `default` and prelude-shadowing titles from typify's copy (outside data and name maps): the
/// validator checks them on the schema as written; for typify they would change the value (a
/// UUID's case, a timestamp's offset, a default filled in on decoding) or compile a pattern with
/// another regex engine than the validator's.
pub(super) fn strip(value: &mut Value) {
    strip_in(value, false);
}

fn strip_in(value: &mut Value, in_name_map: bool) {
    match value {
        Value::Object(map) => {
            if !in_name_map {
                for key in ["format", "pattern", "default"] {
                    map.remove(key);
                }
                // A title names the Rust type; one that would shadow the prelude is left out, and
                // typify names the type from where it sits instead.
                let shadowing = map.get("title").and_then(Value::as_str).is_some_and(|t| {
                    PRELUDE_NAMES.iter().any(|p| p.eq_ignore_ascii_case(t.trim())) || t.trim() == "Self"
                });
                if shadowing {
                    map.remove("title");
                }
            }
            for (key, child) in map.iter_mut() {
                if in_name_map {
                    strip_in(child, false);
                } else if matches!(
                    key.as_str(),
                    "properties" | "patternProperties" | "definitions" | "$defs" | "dependentSchemas"
                ) {
                    strip_in(child, true);
                } else if !matches!(key.as_str(), "enum" | "const" | "examples") {
                    strip_in(child, false);
                }
            }
        }
        Value::Array(items) if !in_name_map => items.iter_mut().for_each(|i| strip_in(i, false)),
        _ => {}
    }
}

/// With refined types: a sensitive string gets a newtype of its own (typify makes one for a length
/// bound; this one never binds and fits any `usize`), so that its `Debug` is masked even when
/// printed on its own. Plain types wrap it in `crate::Sensitive` instead (see `sensitive`).
pub(super) fn sensitive_newtypes(value: &mut Value) {
    match value {
        Value::Object(map) => {
            let sensitive_string = map.get("x-sensitive") == Some(&Value::Bool(true))
                && map.get("type") == Some(&Value::String("string".into()));
            if sensitive_string && !map.contains_key("minLength") && !map.contains_key("maxLength") {
                map.insert("maxLength".into(), Value::from(u32::MAX));
            }
            for (key, child) in map.iter_mut() {
                if !matches!(key.as_str(), "enum" | "const" | "examples" | "default") {
                    sensitive_newtypes(child);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(sensitive_newtypes),
        _ => {}
    }
}
