//! Reading a payload as a newer version of its schema.

use serde_json::{Map, Value};

use crate::Contract;

/// Converts a payload to the next version of its schema: the generated `From` impls call it.
///
/// Through JSON, because the two versions' types are distinct Rust types even where they agree;
/// properties the newer version adds take their schema `default` on the way.
#[doc(hidden)]
pub fn upcast_payload<A: Contract, B: Contract>(older: A) -> B {
    // Through text and the strict reader, as decoding does: no instantiation of the payloads'
    // serde code for `serde_json::Value` as well.
    let text = serde_json::to_vec(&older).expect("generated payloads always serialize");
    let mut value: Value = serde_json::from_slice(&text).expect("a payload's JSON parses");
    let schema = B::payload_schema().schema();
    fill_defaults(&mut value, schema, schema, 0);
    let text = serde_json::to_vec(&value).expect("a JSON value serializes");
    crate::runtime::strict::from_slice(&text).unwrap_or_else(|e| {
        // The generator emits the `From` impl only where its compatibility rules prove that `B`
        // reads every value `A`'s schema allows; reaching this means a payload built by hand
        // broke `A`'s own schema.
        panic!("{} {} cannot be read as {} {}: {e}", A::NAME, A::SCHEMA_REF.version, B::NAME, B::SCHEMA_REF.version)
    })
}

/// Inserts the `default` of every property `value` lacks, wherever the schema describes it.
fn fill_defaults(value: &mut Value, schema: &Value, root: &Value, depth: usize) {
    // Recursive definitions end where the data ends; the depth guards against a schema loop.
    if depth > 256 {
        return;
    }
    let Some(schema) = resolve(schema, root) else { return };
    if let Some(Value::Array(branches)) = schema.get("allOf") {
        for b in branches {
            fill_defaults(value, b, root, depth + 1);
        }
    }
    match value {
        Value::Object(object) => {
            let Some(Value::Object(properties)) = schema.get("properties") else { return };
            for (name, property) in properties {
                match object.get_mut(name) {
                    Some(inner) => fill_defaults(inner, property, root, depth + 1),
                    None => {
                        if let Some(default) = resolve(property, root).and_then(|p| p.get("default")) {
                            object.insert(name.clone(), default.clone());
                        }
                    }
                }
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items").filter(|s| s.is_object()) {
                for item in items {
                    fill_defaults(item, item_schema, root, depth + 1);
                }
            }
        }
        _ => {}
    }
}

/// Follows `$ref`s, which in a bundled schema all point into the document itself.
fn resolve<'a>(schema: &'a Value, root: &'a Value) -> Option<&'a Map<String, Value>> {
    let mut at = schema;
    for _ in 0..32 {
        match at.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix('#')) {
            Some(pointer) => at = root.pointer(pointer)?,
            None => return at.as_object(),
        }
    }
    None
}
