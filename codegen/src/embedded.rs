//! Documents whose references only a JSON Schema validator can follow: `$anchor`s, `$ref: "#"`,
//! `$dynamicRef`, schema resources embedded with their own `$id`, URNs. The bundler's copying of
//! definitions would change what such references mean, so these documents are kept as written:
//! the validator resolves them inside the document, and the payload is a validated
//! `serde_json::Value` (typify cannot follow them either).
//!
//! And how JSON text is embedded in the generated code: as a raw string that reads as written.

use serde_json::Value;

/// Keywords whose values are data, not schemas.
const DATA: [&str; 4] = ["const", "enum", "default", "examples"];

/// Keywords whose values map names to schemas.
const NAME_MAPS: [&str; 6] =
    ["properties", "patternProperties", "$defs", "definitions", "dependentSchemas", "dependencies"];

/// Why `doc`'s references must be left to the validator, or `None` when the bundler can follow them.
pub fn validator_only(doc: &Value, base_uri: &str) -> Option<String> {
    let draft4 = doc.get("$schema").and_then(Value::as_str).is_some_and(|s| s.contains("draft-04"));
    let id_key = if draft4 { "id" } else { "$id" };
    let root_id = doc.get(id_key).and_then(Value::as_str).filter(|id| !id.starts_with('#'));
    let foreign_root = root_id.is_some_and(|id| !id.starts_with(base_uri));
    let mut why = None;
    visit(doc, true, id_key, root_id, foreign_root, base_uri, &mut why);
    why
}

fn visit(
    value: &Value,
    root: bool,
    id_key: &str,
    root_id: Option<&str>,
    foreign_root: bool,
    base_uri: &str,
    why: &mut Option<String>,
) {
    if why.is_some() {
        return;
    }
    let Value::Object(map) = value else {
        if let Value::Array(items) = value {
            items.iter().for_each(|i| visit(i, false, id_key, root_id, foreign_root, base_uri, why));
        }
        return;
    };
    for keyword in ["$anchor", "$dynamicAnchor", "$dynamicRef", "$recursiveRef", "$recursiveAnchor"] {
        if map.contains_key(keyword) {
            *why = Some(format!("`{keyword}`"));
            return;
        }
    }
    if !root {
        if let Some(id) = map.get(id_key).and_then(Value::as_str) {
            *why = Some(if id.starts_with('#') {
                format!("the anchor `{id_key}: \"{id}\"`")
            } else {
                format!("a schema resource embedded with `{id_key}: \"{id}\"`")
            });
            return;
        }
    }
    if let Some(r) = map.get("$ref").and_then(Value::as_str) {
        let (target, fragment) = r.split_once('#').unwrap_or((r, ""));
        let reason = if r == "#" {
            Some("`$ref: \"#\"`".to_string())
        } else if !fragment.is_empty() && !fragment.starts_with('/') && !fragment.starts_with("%2F") {
            Some(format!("the anchor reference `{r}`"))
        } else if is_meta_schema(target) {
            Some(format!("a reference to the meta-schema `{r}`"))
        } else if target.starts_with("urn:") {
            Some(format!("the URN reference `{r}`"))
        } else if target.contains("://")
            && !target.starts_with(base_uri)
            && root_id.is_some_and(|id| id.trim_end_matches('#') == target)
        {
            Some(format!("a reference to the document's own `{id_key}`: `{r}`"))
        } else if !target.is_empty() && !target.contains("://") && foreign_root {
            Some(format!("the relative reference `{r}` under the document's `{id_key}`"))
        } else {
            None
        };
        if reason.is_some() {
            *why = reason;
            return;
        }
    }
    for (key, child) in map {
        if DATA.contains(&key.as_str()) {
            continue;
        }
        if NAME_MAPS.contains(&key.as_str()) {
            if let Value::Object(named) = child {
                for schema in named.values() {
                    visit(schema, false, id_key, root_id, foreign_root, base_uri, why);
                }
                continue;
            }
        }
        visit(child, false, id_key, root_id, foreign_root, base_uri, why);
    }
}

/// The drafts' own meta-schemas, which the validator knows without fetching them.
fn is_meta_schema(uri: &str) -> bool {
    let uri = uri.trim_end_matches('#').replace("http://", "https://");
    uri.starts_with("https://json-schema.org/draft/") && uri.ends_with("/schema")
        || ["04", "06", "07"].iter().any(|d| uri == format!("https://json-schema.org/draft-{d}/schema"))
}

/// A string literal that shows `text` as it is: `r#"…"#`, with one `#` more than any run of them
/// after a quote inside, so that nothing inside ends it early. (Text with a carriage return, which
/// a raw string cannot hold, stays an escaped literal.)
pub(crate) fn raw_str(text: &str) -> proc_macro2::Literal {
    if text.contains('\r') {
        return proc_macro2::Literal::string(text);
    }
    let longest = text.split('"').skip(1).map(|after| after.len() - after.trim_start_matches('#').len()).max();
    let hashes = "#".repeat(longest.map_or(0, |n| n + 1));
    format!("r{hashes}\"{text}\"{hashes}").parse().expect("a raw string literal")
}

#[cfg(test)]
mod tests {
    use super::raw_str;

    fn value_of(literal: &proc_macro2::Literal) -> String {
        syn::parse_str::<syn::LitStr>(&literal.to_string()).expect("a string literal").value()
    }

    #[test]
    fn a_raw_string_outlasts_every_quote_and_hash_inside() {
        for text in ["plain", r#"{"a":1}"#, r##"{"$ref":"#/x"}"##, r###"{"s":"##"}"###, "a\"b\\"] {
            let literal = raw_str(text);
            assert!(literal.to_string().starts_with('r'), "{literal}");
            assert_eq!(value_of(&literal), text);
        }
        assert_eq!(raw_str(r##"{"$ref":"#/x"}"##).to_string(), r###"r##"{"$ref":"#/x"}"##"###);
        assert_eq!(value_of(&raw_str("a\r\nb")), "a\r\nb");
    }
}
