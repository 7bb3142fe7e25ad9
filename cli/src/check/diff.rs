//! What "the meaning changed" means for a published version: its bundled schema compared as
//! parsed JSON, with the keys that only document left out, keyword-aware (a property named
//! `description` is a name, not a keyword).

use serde_json::{Map, Value};

/// Keys free to change in a published version: they document, no validator or upcast reads them.
const FREE: [&str; 5] = ["title", "description", "examples", "$comment", "deprecated"];

/// Keywords whose values are data, compared as they are.
const DATA: [&str; 3] = ["const", "enum", "default"];

/// Keywords whose values map names to schemas.
const NAME_MAPS: [&str; 6] =
    ["properties", "patternProperties", "definitions", "$defs", "dependentSchemas", "dependencies"];

/// The schema without what documents only (and without the registry's extension objects, which
/// are compared on their own).
pub fn normalized(schema: &Value) -> Value {
    normalize(schema, true)
}

fn normalize(value: &Value, root: bool) -> Value {
    match value {
        Value::Object(map) => {
            let mut out = Map::new();
            for (k, v) in map {
                if FREE.contains(&k.as_str())
                    || (root && matches!(k.as_str(), "x-event" | "x-command" | "x-compatibility"))
                {
                    continue;
                }
                let v = if DATA.contains(&k.as_str()) {
                    v.clone()
                } else if NAME_MAPS.contains(&k.as_str()) {
                    match v {
                        Value::Object(m) => {
                            Value::Object(m.iter().map(|(n, s)| (n.clone(), normalize(s, false))).collect())
                        }
                        other => other.clone(),
                    }
                } else {
                    normalize(v, false)
                };
                out.insert(k.clone(), v);
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(|i| normalize(i, false)).collect()),
        other => other.clone(),
    }
}

/// Where two values differ: (JSON pointer, what changed), outermost differences only.
pub fn differences(old: &Value, new: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    walk(old, new, String::new(), &mut out);
    out
}

fn walk(old: &Value, new: &Value, at: String, out: &mut Vec<(String, String)>) {
    if old == new {
        return;
    }
    match (old, new) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in a {
                let here = format!("{at}/{}", events_codegen::ident::escape(k));
                match b.get(k) {
                    Some(w) => walk(v, w, here, out),
                    None => out.push((here, format!("`{k}` removed (was {})", short(v)))),
                }
            }
            for (k, w) in b.iter().filter(|(k, _)| !a.contains_key(*k)) {
                out.push((format!("{at}/{}", events_codegen::ident::escape(k)), format!("`{k}` added ({})", short(w))));
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (v, w)) in a.iter().zip(b).enumerate() {
                walk(v, w, format!("{at}/{i}"), out);
            }
        }
        _ => out.push((at, format!("changed from {} to {}", short(old), short(new)))),
    }
}

/// A value in a message, cut short.
fn short(v: &Value) -> String {
    let text = v.to_string();
    if text.chars().count() > 60 {
        format!("{}…", text.chars().take(57).collect::<String>())
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn documentation_is_free_and_names_are_not_keywords() {
        let old = json!({"title": "A", "properties": {"description": {"type": "string", "description": "x"}}, "examples": [1]});
        let new = json!({"title": "B", "properties": {"description": {"type": "string", "description": "y"}}, "$comment": "c"});
        assert_eq!(normalized(&old), normalized(&new));
        let renamed = json!({"properties": {"summary": {"type": "string"}}});
        assert_ne!(normalized(&old), normalized(&renamed));
    }

    #[test]
    fn defaults_and_constraints_are_meaning() {
        let old = json!({"properties": {"n": {"type": "integer", "default": 1, "minimum": 0}}});
        let new = json!({"properties": {"n": {"type": "integer", "default": 2, "minimum": 1}}});
        let found = differences(&normalized(&old), &normalized(&new));
        let pointers: Vec<&str> = found.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(pointers, ["/properties/n/default", "/properties/n/minimum"]);
        assert_eq!(found[1].1, "changed from 0 to 1");
    }

    #[test]
    fn members_added_and_removed_are_named() {
        let found = differences(&json!({"required": ["a"], "x": 1}), &json!({"required": ["a", "b"], "y": 2}));
        let text: Vec<String> = found.iter().map(|(p, m)| format!("{p} {m}")).collect();
        assert_eq!(
            text,
            ["/required changed from [\"a\"] to [\"a\",\"b\"]", "/x `x` removed (was 1)", "/y `y` added (2)"]
        );
    }
}
