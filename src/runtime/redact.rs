//! Properties a schema marks `"x-sensitive": true`: found in a payload wherever they occur, so
//! that logs and error messages can mask them. The wire format never changes.

use serde_json::Value;

/// What a masked value shows instead; the generated types' `Debug` prints the same.
pub const MASK: &str = "<redacted>";

/// Deep enough for any real payload; a schema loop cannot recurse forever.
const MAX_DEPTH: usize = 256;

/// Replaces every sensitive value of `payload` with [`MASK`].
pub(crate) fn redact(payload: &mut Value, schema: &Value) {
    let mut pointers = sensitive_pointers(payload, schema);
    // Outer values first: what lies inside one is gone once it is masked.
    pointers.sort_by_key(|p| p.len());
    for p in pointers {
        if let Some(v) = payload.pointer_mut(&p) {
            *v = Value::String(MASK.into());
        }
    }
}

/// The JSON pointers, relative to `payload`, of every value its schema marks sensitive.
pub(crate) fn sensitive_pointers(payload: &Value, schema: &Value) -> Vec<String> {
    let mut out = Vec::new();
    visit(payload, schema, schema, String::new(), 0, &mut out);
    out.sort();
    out.dedup();
    out
}

/// Whether `pointer` is `base` or lies inside it.
pub(crate) fn within(pointer: &str, base: &str) -> bool {
    pointer == base || pointer.strip_prefix(base).is_some_and(|rest| rest.starts_with('/'))
}

fn visit(value: &Value, schema: &Value, root: &Value, at: String, depth: usize, out: &mut Vec<String>) {
    if depth > MAX_DEPTH {
        return;
    }
    let Some(map) = schema.as_object() else { return };
    if map.get("x-sensitive") == Some(&Value::Bool(true)) {
        out.push(at);
        return;
    }
    let next = |s: &Value, v: &Value, at: String, out: &mut Vec<String>| visit(v, s, root, at, depth + 1, out);
    if let Some(target) =
        map.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix('#')).and_then(|p| root.pointer(p))
    {
        next(target, value, at.clone(), out);
    }
    // Every branch that may apply: masking too much is the safe mistake.
    for key in ["allOf", "anyOf", "oneOf"] {
        for branch in map.get(key).and_then(Value::as_array).into_iter().flatten() {
            next(branch, value, at.clone(), out);
        }
    }
    for key in ["then", "else"] {
        if let Some(branch) = map.get(key) {
            next(branch, value, at.clone(), out);
        }
    }
    match value {
        Value::Object(object) => {
            for (name, child) in object {
                let child_at = format!("{at}/{}", name.replace('~', "~0").replace('/', "~1"));
                let mut matched = false;
                if let Some(s) = map.get("properties").and_then(|p| p.get(name)) {
                    matched = true;
                    next(s, child, child_at.clone(), out);
                }
                for (pattern, s) in map.get("patternProperties").and_then(Value::as_object).into_iter().flatten() {
                    if regress::Regex::new(pattern).is_ok_and(|re| re.find(name).is_some()) {
                        matched = true;
                        next(s, child, child_at.clone(), out);
                    }
                }
                if !matched {
                    if let Some(s) = map.get("additionalProperties") {
                        next(s, child, child_at, out);
                    }
                }
            }
        }
        Value::Array(items) => {
            let tuple = map.get("prefixItems").or_else(|| map.get("items").filter(|i| i.is_array()));
            let tuple = tuple.and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
            let rest = if map.contains_key("prefixItems") {
                map.get("items")
            } else if map.get("items").is_some_and(Value::is_array) {
                map.get("additionalItems")
            } else {
                map.get("items")
            };
            for (i, item) in items.iter().enumerate() {
                let item_at = format!("{at}/{i}");
                match tuple.get(i).or(rest) {
                    Some(s) => next(s, item, item_at, out),
                    None => {}
                }
            }
        }
        _ => {}
    }
}

/// A copy of a fallback payload's JSON with its sensitive values masked, for its `Debug`.
#[doc(hidden)]
pub fn redacted_payload<P: crate::Contract>(payload: &Value) -> Value {
    let mut value = payload.clone();
    redact(&mut value, P::payload_schema().schema());
    value
}

/// The `Debug` of a map of properties a schema does not name, in a payload where something is
/// sensitive: its keys, each value masked.
#[doc(hidden)]
pub struct MaskedValues<'a>(pub &'a serde_json::Map<String, Value>);

impl std::fmt::Debug for MaskedValues<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut map = f.debug_map();
        for key in self.0.keys() {
            map.entry(key, &format_args!("{MASK}"));
        }
        map.finish()
    }
}
