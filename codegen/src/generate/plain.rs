//! Plain field types, the default: typify's copy of a schema loses the bounds typify would turn
//! into newtypes (a `String` newtype with six impls per `minLength`, a `NonZeroU64` per
//! `minimum: 1`, an `i8` per small range), so that fields are `String`, `i64`/`u64`, `f64`. The
//! bounds still hold: the generated typed checks and the validator read the schema as written, and
//! every constructor and decode runs them. With `refined-types` on, typify's copy keeps them.
//!
//! Also here, the rewrites of typify's output that hold in both modes: its `error` module, written
//! once per schema version, becomes the runtime's one `ConversionError`; fields holding `f64`s
//! encode integral numbers as integers.

use quote::ToTokens;
use serde_json::{Map, Value};

/// Keywords that bound a string's length or a number's range.
const BOUNDS: [&str; 6] = ["minLength", "maxLength", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"];

/// Drops the bounds from typify's copy; an integer that cannot be negative keeps `minimum: 0`, so
/// that it stays a `u64` and holds every value up to `u64::MAX`.
pub(super) fn widen(value: &mut Value) {
    widen_in(value, false);
}

fn widen_in(value: &mut Value, in_name_map: bool) {
    match value {
        Value::Object(map) if in_name_map => map.values_mut().for_each(|v| widen_in(v, false)),
        Value::Object(map) => {
            let unsigned = is_integer(map) && not_negative(map);
            for key in BOUNDS {
                map.remove(key);
            }
            if unsigned {
                map.insert("minimum".into(), Value::from(0));
            }
            for (key, child) in map.iter_mut() {
                match key.as_str() {
                    "properties" | "patternProperties" | "definitions" | "$defs" | "dependentSchemas" => {
                        widen_in(child, true)
                    }
                    "enum" | "const" | "examples" | "default" => {}
                    _ => widen_in(child, false),
                }
            }
        }
        Value::Array(items) if !in_name_map => items.iter_mut().for_each(|i| widen_in(i, false)),
        _ => {}
    }
}

fn is_integer(m: &Map<String, Value>) -> bool {
    match m.get("type") {
        Some(Value::String(t)) => t == "integer",
        Some(Value::Array(ts)) => ts.iter().any(|t| t == "integer") && ts.iter().all(|t| t == "integer" || t == "null"),
        _ => false,
    }
}

/// Whether an integer's lower bound rules out negative values (numeric or draft 4's boolean
/// `exclusiveMinimum`).
fn not_negative(m: &Map<String, Value>) -> bool {
    let minimum = m.get("minimum").and_then(Value::as_f64);
    match m.get("exclusiveMinimum") {
        Some(Value::Number(n)) => n.as_f64().is_some_and(|x| x >= -1.0) || minimum.is_some_and(|x| x >= 0.0),
        Some(Value::Bool(true)) => minimum.is_some_and(|x| x >= -1.0),
        _ => minimum.is_some_and(|x| x >= 0.0),
    }
}

/// Points typify's conversions at the runtime's `ConversionError` and drops its `error` module.
pub(super) fn shared_support(file: &mut syn::File) {
    use syn::visit_mut::VisitMut;

    struct Paths;
    impl VisitMut for Paths {
        fn visit_path_mut(&mut self, path: &mut syn::Path) {
            let names: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
            if names == ["self", "error", "ConversionError"] {
                *path = syn::parse_quote!(crate::ConversionError);
            } else {
                syn::visit_mut::visit_path_mut(self, path);
            }
        }
    }
    file.items.retain(|item| !matches!(item, syn::Item::Mod(m) if m.ident == "error"));
    Paths.visit_file_mut(file);
}

/// Whether a field's type holds `f64`s in shapes `crate::IntegralNumbers` knows: `f64` itself, or
/// inside `Option`, `Box`, `Vec`, `HashMap`, `BTreeMap`, `Sensitive`.
fn holds_f64(ty: &syn::Type) -> bool {
    let syn::Type::Path(p) = ty else { return false };
    let Some(last) = p.path.segments.last() else { return false };
    let args: Vec<&syn::Type> = match &last.arguments {
        syn::PathArguments::AngleBracketed(a) => a
            .args
            .iter()
            .filter_map(|g| match g {
                syn::GenericArgument::Type(t) => Some(t),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    match (last.ident.to_string().as_str(), args.as_slice()) {
        ("f64", []) => true,
        ("Option" | "Box" | "Vec" | "Sensitive", [inner]) => holds_f64(inner),
        ("HashMap" | "BTreeMap", [_, inner]) => holds_f64(inner),
        _ => false,
    }
}

/// Gives every field holding `f64`s the encoder that writes `100` for 100.0: a message that wrote
/// an integer where the schema allows any number gets it back as it wrote it.
pub(super) fn integral_numbers(file: &mut syn::File) {
    for item in &mut file.items {
        let syn::Item::Struct(s) = item else { continue };
        for field in s.fields.iter_mut() {
            // The word itself: `deserialize_with` (optional fields have one) is no serializer.
            let serialized_already = field.attrs.iter().any(|a| {
                a.path().is_ident("serde")
                    && a.meta
                        .to_token_stream()
                        .to_string()
                        .split(|c: char| !c.is_alphanumeric() && c != '_')
                        .any(|w| w == "serialize_with")
            });
            if holds_f64(&field.ty) && !serialized_already {
                field.attrs.push(syn::parse_quote!(#[serde(serialize_with = "crate::serialize_integral")]));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn optional_numbers_get_the_integral_encoder_too() {
        let mut file: syn::File = syn::parse_quote! {
            pub struct Box {
                #[serde(default, deserialize_with = "crate::deserialize_present")]
                pub height: ::std::option::Option<f64>,
                pub width: f64,
                pub name: ::std::string::String,
            }
        };
        super::integral_numbers(&mut file);
        let text = quote::ToTokens::to_token_stream(&file).to_string();
        assert_eq!(text.matches("\"crate::serialize_integral\"").count(), 2, "{text}");
    }

    #[test]
    fn bounds_go_and_unsigned_integers_stay_unsigned() {
        let mut s = json!({
            "type": "object",
            "properties": {
                "id": { "type": "string", "minLength": 1, "maxLength": 9 },
                "n": { "type": "integer", "minimum": 1, "maximum": 5 },
                "d4": { "type": "integer", "minimum": -1, "exclusiveMinimum": true },
                "signed": { "type": "integer", "minimum": -5 },
                "x": { "type": "number", "exclusiveMinimum": 0 },
                "minimum": { "type": "string", "enum": ["minLength"] }
            },
            "examples": [{ "id": "a", "minLength": 3 }]
        });
        super::widen(&mut s);
        assert_eq!(
            s,
            json!({
                "type": "object",
                "properties": {
                    "id": { "type": "string" },
                    "n": { "type": "integer", "minimum": 0 },
                    "d4": { "type": "integer", "minimum": 0 },
                    "signed": { "type": "integer" },
                    "x": { "type": "number" },
                    "minimum": { "type": "string", "enum": ["minLength"] }
                },
                "examples": [{ "id": "a", "minLength": 3 }]
            })
        );
    }
}
