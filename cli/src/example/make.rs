//! A value made from a schema: its examples, const, enum or default where it has them, otherwise
//! built from its keywords (types, required members, bounds, patterns, formats, `$ref`s, `allOf`
//! merged, the first `anyOf`/`oneOf` branch that works). Every choice is checked against the
//! schema it was made for, so a wrong guess falls through to the next one instead of spreading.

use serde_json::{json, Map, Value};

use super::pattern;

/// How deep optional members are still filled in: deeper, only what is required.
const OPTIONAL_DEPTH: usize = 3;
/// Recursion limit: a required member that recurses deeper cannot be made.
const MAX_DEPTH: usize = 24;

/// Makes values for the subschemas of one bundled schema.
pub struct Maker<'a> {
    root: &'a Value,
}

impl<'a> Maker<'a> {
    pub fn new(root: &'a Value) -> Self {
        Maker { root }
    }

    /// A value of the whole schema.
    pub fn root_value(&self) -> Option<Value> {
        self.make(self.root, 0)
    }

    /// Whether `value` meets `schema`, a part of the root (its `$ref`s resolved against the root).
    /// A part that cannot be compiled on its own is given the benefit of the doubt: the whole
    /// message is validated in the end anyway.
    pub fn accepts(&self, schema: &Value, value: &Value) -> bool {
        let mut wrapper = Map::new();
        for key in ["$schema", "definitions", "$defs"] {
            if let Some(v) = self.root.get(key) {
                wrapper.insert(key.into(), v.clone());
            }
        }
        wrapper.insert("allOf".into(), json!([schema]));
        match jsonschema::options().should_validate_formats(true).build(&Value::Object(wrapper)) {
            Ok(v) => v.is_valid(value),
            Err(_) => true,
        }
    }

    fn resolve(&self, reference: &str) -> Option<&'a Value> {
        let pointer = reference.strip_prefix('#')?;
        if pointer.is_empty() {
            return Some(self.root);
        }
        let pointer: String = pointer.split('/').map(|t| percent_decode(t)).collect::<Vec<_>>().join("/");
        self.root.pointer(&pointer)
    }

    fn make(&self, schema: &Value, depth: usize) -> Option<Value> {
        if depth > MAX_DEPTH {
            return None;
        }
        let map = match schema {
            Value::Bool(true) => return Some(json!("example")),
            Value::Bool(false) => return None,
            Value::Object(map) => map,
            _ => return None,
        };
        let try_value = |v: &Value| self.accepts(schema, v).then(|| v.clone());
        for key in ["examples"] {
            if let Some(found) = map.get(key).and_then(Value::as_array).and_then(|e| e.iter().find_map(try_value)) {
                return Some(found);
            }
        }
        if let Some(c) = map.get("const") {
            return Some(c.clone());
        }
        if let Some(e) = map.get("enum").and_then(Value::as_array) {
            return e.iter().find_map(try_value).or_else(|| e.first().cloned());
        }
        if let Some(found) = map.get("default").and_then(try_value) {
            return Some(found);
        }
        if let Some(reference) = map.get("$ref").and_then(Value::as_str) {
            let target = self.resolve(reference)?;
            let rest = without(map, &["$ref"]);
            return if constrains(&rest) {
                self.make(&merge(&[target, &Value::Object(rest)], self), depth + 1)
            } else {
                self.make(target, depth + 1)
            };
        }
        if let Some(all) = map.get("allOf").and_then(Value::as_array) {
            let rest = Value::Object(without(map, &["allOf"]));
            let mut parts: Vec<&Value> = vec![&rest];
            parts.extend(all.iter());
            let merged = merge(&parts, self);
            let value = self.make(&merged, depth + 1)?;
            return Some(value);
        }
        for key in ["oneOf", "anyOf"] {
            if let Some(branches) = map.get(key).and_then(Value::as_array) {
                let rest = Value::Object(without(map, &[key]));
                return branches.iter().find_map(|b| {
                    let v = self.make(&merge(&[&rest, b], self), depth + 1)?;
                    self.accepts(schema, &v).then_some(v)
                });
            }
        }
        if map.contains_key("if") || map.contains_key(CONDITIONS) {
            return self.conditional(schema, map, depth);
        }
        let types = types_of(map);
        types.iter().find_map(|t| {
            let v = self.typed(t, map, depth)?;
            self.accepts(schema, &v).then_some(v)
        })
    }

    /// `if`/`then`/`else` (its own, and those `allOf` gathered): a value of the rest first, then
    /// the branch that value takes joined in and the value made again.
    fn conditional(&self, schema: &Value, map: &Map<String, Value>, depth: usize) -> Option<Value> {
        let mut conditions: Vec<Value> = map.get(CONDITIONS).and_then(Value::as_array).cloned().unwrap_or_default();
        if map.contains_key("if") {
            conditions.push(Value::Object(pick(map, &["if", "then", "else"])));
        }
        let mut base = Value::Object(without(map, &["if", "then", "else", CONDITIONS]));
        let mut value = self.make(&base, depth + 1)?;
        for _ in 0..2 {
            let mut joined = vec![base.clone()];
            for c in &conditions {
                let branch = if self.accepts(&c["if"], &value) { c.get("then") } else { c.get("else") };
                joined.extend(branch.cloned());
            }
            let parts: Vec<&Value> = joined.iter().collect();
            base = merge(&parts, self);
            value = self.make(&base, depth + 1)?;
            if self.accepts(schema, &value) {
                break;
            }
        }
        Some(value)
    }

    fn typed(&self, t: &str, map: &Map<String, Value>, depth: usize) -> Option<Value> {
        match t {
            "object" => self.object(map, depth),
            "array" => self.array(map, depth),
            "string" => string(map),
            "integer" => integer(map).map(Value::from),
            "number" => number(map),
            "boolean" => Some(json!(true)),
            "null" => Some(Value::Null),
            _ => None,
        }
    }

    fn object(&self, map: &Map<String, Value>, depth: usize) -> Option<Value> {
        let properties = map.get("properties").and_then(Value::as_object).cloned().unwrap_or_default();
        let required: Vec<String> = map
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|r| r.as_str().map(String::from))
            .collect();
        let extra = map.get("additionalProperties").cloned().unwrap_or(Value::Bool(true));
        let schema_of = |name: &str| properties.get(name).cloned().unwrap_or_else(|| extra.clone());
        // Every property where that stays shallow, else the required ones only.
        let mut attempts = Vec::new();
        if depth <= OPTIONAL_DEPTH {
            let mut all: Vec<String> = required.clone();
            all.extend(properties.keys().filter(|k| !required.contains(k)).cloned());
            attempts.push(all);
        }
        attempts.push(required.clone());
        let whole = Value::Object(map.clone());
        for names in attempts {
            let mut out = Map::new();
            let mut complete = true;
            for name in &names {
                match self.make(&schema_of(name), depth + 1) {
                    Some(v) => {
                        out.insert(name.clone(), v);
                    }
                    None if required.contains(name) => {
                        complete = false;
                        break;
                    }
                    None => {}
                }
            }
            if !complete {
                continue;
            }
            // Members that others depend on (`dependentRequired`, draft 7's `dependencies` lists).
            for key in ["dependentRequired", "dependencies"] {
                for (present, needed) in map.get(key).and_then(Value::as_object).into_iter().flatten() {
                    let Some(needed) = needed.as_array() else { continue };
                    if out.contains_key(present) {
                        for name in needed.iter().filter_map(Value::as_str) {
                            if !out.contains_key(name) {
                                out.insert(name.to_string(), self.make(&schema_of(name), depth + 1)?);
                            }
                        }
                    }
                }
            }
            let min = map.get("minProperties").and_then(Value::as_u64).unwrap_or(0) as usize;
            let names = map.get("propertyNames").cloned().unwrap_or(Value::Bool(true));
            let mut n = 1;
            while out.len() < min && n < 64 {
                // A name the schema's `propertyNames` allows, unlike any taken.
                let name = match self.make(&names, depth + 1).and_then(|v| v.as_str().map(String::from)) {
                    Some(name) if names != Value::Bool(true) && !out.contains_key(&name) => name,
                    _ => format!("extra{n}"),
                };
                n += 1;
                if let Some(v) = self.make(&extra, depth + 1) {
                    out.insert(name, v);
                }
            }
            let value = Value::Object(out);
            if self.accepts(&whole, &value) {
                return Some(value);
            }
        }
        None
    }

    fn array(&self, map: &Map<String, Value>, depth: usize) -> Option<Value> {
        let min = map.get("minItems").and_then(Value::as_u64).unwrap_or(0) as usize;
        let max = map.get("maxItems").and_then(Value::as_u64).map(|m| m as usize).unwrap_or(usize::MAX);
        let (prefix, rest): (Vec<Value>, Option<Value>) = match (map.get("prefixItems"), map.get("items")) {
            (Some(Value::Array(p)), items) => (p.clone(), items.cloned()),
            (None, Some(Value::Array(p))) => (p.clone(), map.get("additionalItems").cloned()),
            (_, items) => (Vec::new(), items.cloned()),
        };
        let mut out = Vec::new();
        for s in &prefix {
            if out.len() >= min.max(1).min(max) && out.len() >= min {
                break;
            }
            out.push(self.make(s, depth + 1)?);
        }
        let target = min.max(if depth <= OPTIONAL_DEPTH { 1 } else { 0 }).min(max);
        let unique = map.get("uniqueItems").and_then(Value::as_bool).unwrap_or(false);
        if let Some(contains) = map.get("contains") {
            if out.is_empty() && max > 0 {
                out.push(self.make(contains, depth + 1)?);
            }
        }
        let item_schema = rest.unwrap_or(Value::Bool(true));
        while out.len() < target {
            let v = self.make(&item_schema, depth + 1)?;
            if unique && out.contains(&v) {
                let varied = vary(&v, out.len());
                if out.contains(&varied) {
                    return None;
                }
                out.push(varied);
            } else {
                out.push(v);
            }
        }
        Some(Value::Array(out))
    }
}

/// The types a schema allows, most telling first; inferred from its keywords when it names none.
fn types_of(map: &Map<String, Value>) -> Vec<String> {
    match map.get("type") {
        Some(Value::String(t)) => vec![t.clone()],
        Some(Value::Array(ts)) => {
            let mut ts: Vec<String> = ts.iter().filter_map(|t| t.as_str().map(String::from)).collect();
            // `null` only when nothing else can be made.
            ts.sort_by_key(|t| t == "null");
            ts
        }
        _ => {
            let has = |keys: &[&str]| keys.iter().any(|k| map.contains_key(*k));
            let mut out = Vec::new();
            if has(&["properties", "required", "additionalProperties", "minProperties", "patternProperties"]) {
                out.push("object");
            }
            if has(&["items", "prefixItems", "minItems", "contains"]) {
                out.push("array");
            }
            if has(&["pattern", "minLength", "maxLength", "format"]) {
                out.push("string");
            }
            if has(&["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"]) {
                out.push("number");
            }
            out.extend(["object", "string", "integer", "number", "array", "boolean", "null"]);
            let mut seen = Vec::new();
            out.into_iter()
                .filter(|t| {
                    !seen.contains(t) && {
                        seen.push(*t);
                        true
                    }
                })
                .map(String::from)
                .collect()
        }
    }
}

fn string(map: &Map<String, Value>) -> Option<Value> {
    let min = map.get("minLength").and_then(Value::as_u64).unwrap_or(0) as usize;
    let max = map.get("maxLength").and_then(Value::as_u64).map(|m| m as usize).unwrap_or(usize::MAX);
    if let Some(p) = map.get("pattern").and_then(Value::as_str) {
        return pattern::sample(p, 1, min, max).map(Value::String);
    }
    let base = match map.get("format").and_then(Value::as_str) {
        Some("date-time") => "2026-01-01T12:00:00Z",
        Some("date") => "2026-01-01",
        Some("time") => "12:00:00Z",
        Some("duration") => "P1D",
        Some("email" | "idn-email") => "user@example.com",
        Some("hostname" | "idn-hostname") => "example.com",
        Some("ipv4") => "192.0.2.1",
        Some("ipv6") => "2001:db8::1",
        Some("uri" | "iri" | "uri-reference" | "iri-reference") => "https://example.com/resource",
        Some("uri-template") => "https://example.com/{id}",
        Some("uuid") => "3fa85f64-5717-4562-b3fc-2c963f66afa6",
        Some("json-pointer") => "/example",
        Some("relative-json-pointer") => "0/example",
        Some("regex") => "^[a-z]+$",
        _ => "example",
    };
    let mut s: String = base.chars().take(max).collect();
    while s.chars().count() < min {
        s.push('x');
    }
    Some(Value::String(s))
}

/// The lower and upper bounds of a number schema, with whether each excludes its value, in the
/// draft 4 (`exclusiveMinimum: true`) and later (`exclusiveMinimum: 3`) forms.
fn bounds(map: &Map<String, Value>) -> (Option<(f64, bool)>, Option<(f64, bool)>) {
    let num = |k: &str| map.get(k).and_then(Value::as_f64);
    let flag = |k: &str| map.get(k).and_then(Value::as_bool).unwrap_or(false);
    let lower = match (num("minimum"), num("exclusiveMinimum")) {
        (Some(m), Some(e)) => Some(if e >= m { (e, true) } else { (m, false) }),
        (Some(m), None) => Some((m, flag("exclusiveMinimum"))),
        (None, Some(e)) => Some((e, true)),
        (None, None) => None,
    };
    let upper = match (num("maximum"), num("exclusiveMaximum")) {
        (Some(m), Some(e)) => Some(if e <= m { (e, true) } else { (m, false) }),
        (Some(m), None) => Some((m, flag("exclusiveMaximum"))),
        (None, Some(e)) => Some((e, true)),
        (None, None) => None,
    };
    (lower, upper)
}

fn integer(map: &Map<String, Value>) -> Option<i64> {
    let (lower, upper) = bounds(map);
    let lo = lower.map(|(v, ex)| if ex { v.floor() as i64 + 1 } else { v.ceil() as i64 });
    let hi = upper.map(|(v, ex)| if ex { v.ceil() as i64 - 1 } else { v.floor() as i64 });
    let step =
        map.get("multipleOf").and_then(Value::as_f64).filter(|m| *m >= 1.0 && m.fract() == 0.0).map(|m| m as i64);
    let mut n = match (lo, hi) {
        (Some(lo), _) => lo,
        (None, Some(hi)) => hi.min(1),
        (None, None) => 1,
    };
    if let Some(step) = step {
        n = n.div_euclid(step) * step + if n.rem_euclid(step) == 0 { 0 } else { step };
    }
    hi.is_none_or(|hi| n <= hi).then_some(n)
}

fn number(map: &Map<String, Value>) -> Option<Value> {
    if let Some(m) = map.get("multipleOf").and_then(Value::as_f64) {
        let (lower, upper) = bounds(map);
        let lo = lower.map(|(v, _)| v).unwrap_or(m);
        let mut k = (lo / m).ceil();
        if lower.is_some_and(|(v, ex)| ex && k * m <= v) {
            k += 1.0;
        }
        let n = k * m;
        return upper.is_none_or(|(v, ex)| if ex { n < v } else { n <= v }).then(|| json!(n));
    }
    let (lower, upper) = bounds(map);
    let n = match (lower, upper) {
        (Some((lo, false)), _) => lo,
        (Some((lo, true)), Some((hi, _))) => (lo + hi) / 2.0,
        (Some((lo, true)), None) => lo + 1.0,
        (None, Some((hi, ex))) => {
            if ex {
                (hi - 1.0).min(1.0)
            } else {
                hi.min(1.0)
            }
        }
        (None, None) => 1.5,
    };
    Some(json!(n))
}

/// A value like `v` but different, for arrays whose items must be unique.
fn vary(v: &Value, i: usize) -> Value {
    match v {
        Value::String(s) => Value::String(format!("{s}{i}")),
        Value::Number(n) => {
            n.as_i64().map(|n| json!(n + i as i64)).unwrap_or_else(|| json!(n.as_f64().unwrap_or(0.0) + i as f64))
        }
        Value::Object(m) => {
            let mut m = m.clone();
            if let Some((k, first)) = m.iter().next().map(|(k, v)| (k.clone(), v.clone())) {
                m.insert(k, vary(&first, i));
            }
            Value::Object(m)
        }
        other => other.clone(),
    }
}

/// Where [`merge`] keeps the `if`/`then`/`else` of the parts it joins, each applied in turn.
const CONDITIONS: &str = "x-example-conditions";

fn pick(map: &Map<String, Value>, keys: &[&str]) -> Map<String, Value> {
    map.iter().filter(|(k, _)| keys.contains(&k.as_str())).map(|(k, v)| (k.clone(), v.clone())).collect()
}

fn without(map: &Map<String, Value>, keys: &[&str]) -> Map<String, Value> {
    map.iter().filter(|(k, _)| !keys.contains(&k.as_str())).map(|(k, v)| (k.clone(), v.clone())).collect()
}

/// Whether a schema object says more than annotations.
fn constrains(map: &Map<String, Value>) -> bool {
    map.keys().any(|k| {
        !matches!(
            k.as_str(),
            "title"
                | "description"
                | "$comment"
                | "$schema"
                | "$id"
                | "definitions"
                | "$defs"
                | "deprecated"
                | "readOnly"
                | "writeOnly"
        ) && !k.starts_with("x-")
    })
}

/// One schema object with the constraints of all `parts` (`$ref`s resolved): properties and
/// required members joined, other keywords taken from the last part that has them.
fn merge(parts: &[&Value], maker: &Maker<'_>) -> Value {
    let mut out = Map::new();
    let mut properties = Map::new();
    let mut required: Vec<Value> = Vec::new();
    let mut conditions: Vec<Value> = Vec::new();
    for part in parts {
        let mut part = *part;
        for _ in 0..MAX_DEPTH {
            match part.get("$ref").and_then(Value::as_str).and_then(|r| maker.resolve(r)) {
                Some(target) if part.as_object().is_some_and(|m| m.len() == 1) => part = target,
                _ => break,
            }
        }
        let Some(map) = part.as_object() else { continue };
        if map.contains_key("if") {
            conditions.push(Value::Object(pick(map, &["if", "then", "else"])));
        }
        for (k, v) in map {
            match k.as_str() {
                "properties" => {
                    for (name, s) in v.as_object().into_iter().flatten() {
                        let joined = match properties.get(name) {
                            // A property one part forbids stays forbidden.
                            Some(Value::Bool(false)) => Value::Bool(false),
                            Some(_) if *s == Value::Bool(false) => Value::Bool(false),
                            Some(existing) => merge(&[existing, s], maker),
                            None => s.clone(),
                        };
                        properties.insert(name.clone(), joined);
                    }
                }
                "required" => {
                    for r in v.as_array().into_iter().flatten() {
                        if !required.contains(r) {
                            required.push(r.clone());
                        }
                    }
                }
                "if" | "then" | "else" => {}
                CONDITIONS => conditions.extend(v.as_array().into_iter().flatten().cloned()),
                "allOf" => {
                    let nested: Vec<&Value> = v.as_array().into_iter().flatten().collect();
                    if let Value::Object(m) = merge(&nested, maker) {
                        for (name, s) in m.get("properties").and_then(Value::as_object).into_iter().flatten() {
                            properties.insert(name.clone(), s.clone());
                        }
                        for r in m.get("required").and_then(Value::as_array).into_iter().flatten() {
                            if !required.contains(r) {
                                required.push(r.clone());
                            }
                        }
                        for (k, v) in m.into_iter().filter(|(k, _)| k != "properties" && k != "required") {
                            if k == CONDITIONS {
                                conditions.extend(v.as_array().into_iter().flatten().cloned());
                            } else {
                                out.insert(k, v);
                            }
                        }
                    }
                }
                _ => {
                    out.insert(k.clone(), v.clone());
                }
            }
        }
    }
    if !properties.is_empty() {
        out.insert("properties".into(), Value::Object(properties));
    }
    if !required.is_empty() {
        out.insert("required".into(), Value::Array(required));
    }
    if !conditions.is_empty() {
        out.insert(CONDITIONS.into(), Value::Array(conditions));
    }
    Value::Object(out)
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() && s.is_char_boundary(i + 3) {
            if let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|_| s.to_string())
}

#[cfg(test)]
mod tests {
    use super::Maker;
    use serde_json::json;

    fn made(schema: serde_json::Value) -> serde_json::Value {
        let maker = Maker::new(&schema);
        let v = maker.root_value().unwrap_or_else(|| panic!("nothing made for {schema}"));
        assert!(maker.accepts(&schema, &v), "{v} does not meet {schema}");
        v
    }

    #[test]
    fn bounds_formats_and_patterns_are_met() {
        let v = made(json!({"type": "object", "required": ["n", "when", "code", "price"], "properties": {
            "n": {"type": "integer", "minimum": 3, "multipleOf": 2},
            "when": {"type": "string", "format": "date-time"},
            "code": {"type": "string", "pattern": "^[A-Z]{3}-\\d{2}$"},
            "price": {"type": "number", "exclusiveMinimum": 0}
        }}));
        assert_eq!(v["n"], 4);
        assert_eq!(v["code"], "AAA-00");
    }

    #[test]
    fn references_compositions_and_unique_items_are_followed() {
        made(json!({
            "definitions": {"Item": {"type": "object", "required": ["id"], "properties": {"id": {"type": "string", "minLength": 2}}}},
            "type": "object", "required": ["items", "choice", "both"],
            "properties": {
                "items": {"type": "array", "minItems": 2, "uniqueItems": true, "items": {"$ref": "#/definitions/Item"}},
                "choice": {"oneOf": [{"type": "integer", "maximum": 0, "minimum": 0}, {"type": "string"}]},
                "both": {"allOf": [{"$ref": "#/definitions/Item"}, {"required": ["extra"], "properties": {"extra": {"const": 1}}}]}
            }
        }));
    }

    #[test]
    fn a_schema_nothing_meets_makes_nothing() {
        let schema = json!({"type": "object", "required": ["a"], "properties": {"a": false}});
        assert_eq!(Maker::new(&schema).root_value(), None);
    }
}
